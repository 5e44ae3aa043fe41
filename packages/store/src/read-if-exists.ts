// Reading a root file that may be absent; writes go through @ocm/fs writeDurable.
import { readFile } from 'node:fs/promises';
import { OcmError, quote } from '@ocm/core';

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR' || code === 'EISDIR') {
      const what = code === 'ENOTDIR' ? 'a file stands where a directory of its path belongs' : 'it is a directory';
      throw new OcmError('OCM_E_ROOT_INVALID', `cannot read ${quote(path)}: ${what}`, {
        hint: 'move the thing that is in the way out of the deployment root, then retry',
        cause: error,
        details: { path },
      });
    }
    throw error;
  }
}
