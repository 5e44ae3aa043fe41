// Filesystem failures on the root become one clear refusal, not a stack trace.
import { OcmError } from '@ocm/core';

export function rootFsError(error: unknown, root: string, doing: string): OcmError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
    return new OcmError('OCM_E_ROOT_UNWRITABLE', `cannot ${doing} in ${root} (${code})`, { cause: error });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new OcmError('OCM_E_ROOT_UNWRITABLE', `no space left to ${doing} in ${root}`, { cause: error, hint: 'free some disk space and retry' });
  }
  return new OcmError('OCM_E_INTERNAL', `failed to ${doing} in ${root}: ${(error as Error).message}`, { cause: error });
}
