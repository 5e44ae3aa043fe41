// One writer at a time per deployment root. proper-lockfile uses an atomic
// mkdir plus mtime refreshes, so a crashed holder goes stale instead of
// blocking forever, and it works across processes without a daemon.
import { OcmError } from '@ocm/core';
import { rootFsError } from './fs-errors.js';

export const LOCK_NAME = '.ocm.lock';

/** Edits queue behind each other for up to two minutes before giving up. */
export async function withRootLock<T>(root: string, fn: () => Promise<T>, waitMs = 120_000): Promise<T> {
  return withDirLock(root, LOCK_NAME, fn, waitMs, `${root} is locked by another ocm command`);
}

/** An exclusive lock on a directory, held while fn runs (e.g. one backup per user at a time). */
export async function withDirLock<T>(dir: string, name: string, fn: () => Promise<T>, waitMs: number, busy: string): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile');
  const options = { lockfilePath: `${dir}/${name}`, stale: 10_000, update: 2_000, realpath: false, retries: 0 };
  // A deadline, not a retry count: how long a wait lasts must not depend on
  // how the back-off adds up, and a busy host must not turn a queue into a refusal.
  const deadline = Date.now() + waitMs;
  let release: () => Promise<void>;
  for (;;) {
    try {
      // The lock's own path as its key: proper-lockfile keeps one entry per
      // locked path in a process, so two locks of one directory (the root's
      // edit lock and the network policy's) must not share it, or releasing
      // one breaks the other's refresh timer.
      release = await lockfile.lock(options.lockfilePath, options);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw rootFsError(error, dir, 'take the edit lock');
      if (Date.now() >= deadline) throw new OcmError('OCM_E_LOCKED', busy, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 125));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/** Whether a live (not stale) holder has the lock right now. */
export async function isDirLocked(dir: string, name: string): Promise<boolean> {
  const { default: lockfile } = await import('proper-lockfile');
  return lockfile.check(`${dir}/${name}`, { lockfilePath: `${dir}/${name}`, stale: 10_000, realpath: false }).catch(() => false);
}
