// Which deployment root a command acts on: --root, else OCM_ROOT, else /opt/ocm.
import { resolve } from 'node:path';
import { assertRootPath } from '@ocm/core';

export const DEFAULT_ROOT = '/opt/ocm';

export function resolveRoot(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = flag ?? env.OCM_ROOT ?? DEFAULT_ROOT;
  return assertRootPath(resolve(chosen));
}
