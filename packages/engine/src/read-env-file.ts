// The engine reads the user's 0600 env file itself, as compose does, so the
// secret never travels through argv, labels or the plan.
import { readFile } from 'node:fs/promises';
import { OcmError, quote } from '@ocm/core';
import { parseEnvFile } from './env-file.js';

export async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new OcmError('OCM_E_RENDER_STALE', `env file ${quote(path)} does not exist`, { cause: error });
    }
    throw new OcmError('OCM_E_ROOT_UNWRITABLE', `cannot read env file ${quote(path)} (${code ?? 'error'})`, { cause: error });
  }
  return parseEnvFile(text);
}
