// One writer at a time per deployment root. proper-lockfile uses an atomic
// mkdir plus mtime refreshes, so a crashed holder goes stale instead of
// blocking forever, and it works across processes without a daemon.
import { OcmError } from '@ocm/core';
import { rootFsError } from './fs-errors.js';

export const LOCK_NAME = '.ocm.lock';

export async function withRootLock<T>(root: string, fn: () => Promise<T>, waitMs = 30_000): Promise<T> {
  return withDirLock(root, LOCK_NAME, fn, waitMs, `${root} is locked by another ocm command`);
}

/** An exclusive lock on a directory, held while fn runs (e.g. one backup per user at a time). */
export async function withDirLock<T>(dir: string, name: string, fn: () => Promise<T>, waitMs: number, busy: string): Promise<T> {
  const root = dir;
  let release: () => Promise<void>;
  const { default: lockfile } = await import('proper-lockfile');
  try {
    release = await lockfile.lock(root, {
      lockfilePath: `${root}/${name}`,
      stale: 10_000,
      update: 2_000,
      realpath: false,
      retries: { retries: Math.ceil(waitMs / 100), factor: 1, minTimeout: 20, maxTimeout: 120, randomize: true },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new OcmError('OCM_E_LOCKED', busy, { cause: error });
    }
    throw rootFsError(error, root, 'take the edit lock');
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
