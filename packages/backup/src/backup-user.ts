// The whole nightly job for one user: archive, verify, copy, then prune, in
// that order, so nothing old is deleted before something new is proven good.
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sidecarName, verifyStateName, type ArchiveKind } from './archive-name.js';
import { applyRetention } from './apply-retention.js';
import { guardFor } from './consistency-guard.js';
import { copyBackup, type CopyResult } from './copy-backup.js';
import { createBackup, DEFAULT_LIMITS, type BackupProgress, type BackupResult, type BackupStrategy } from './create-backup.js';
import type { RetentionPolicy } from './retention.js';
import type { BackupSource, Clock, ConsistencyMode, ContainerControl } from './types.js';
import { verifyAndRecord } from './verify-state.js';

export interface BackupUserOptions {
  user: string;
  /** `<root>/users/<name>` */
  userDir: string;
  /** `<root>/backups`; archives go to `<backupsDir>/<name>/`. */
  backupsDir: string;
  control: ContainerControl;
  mode?: ConsistencyMode;
  strategy?: BackupStrategy;
  clock: Clock;
  /** manual: taken by hand, kept by keepManual; scheduled (default): kept by keepDaily/keepWeekly. */
  kind?: ArchiveKind;
  /** Second directory; the copy goes to `<copyTo>/<name>/`. */
  copyTo?: string;
  /** false keeps everything. */
  retention?: RetentionPolicy | false;
  onProgress?: (progress: BackupProgress) => void;
  /** Bounds on the user's trees, checked before the user is frozen. */
  limits?: { maxFiles: number; maxBytes: number };
  timeoutMs?: number;
}

export interface BackupUserResult extends BackupResult {
  copy?: CopyResult;
  /** Set when the second copy failed; the primary archive is still good. */
  copyError?: string;
  pruned: string[];
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

export async function backupUser(opts: BackupUserOptions): Promise<BackupUserResult> {
  const sources: BackupSource[] = [{ dir: join(opts.userDir, 'state'), prefix: 'state' }];
  if (await exists(join(opts.userDir, 'config'))) sources.push({ dir: join(opts.userDir, 'config'), prefix: 'config' });
  const destDir = join(opts.backupsDir, opts.user);
  const result = await createBackup({
    user: opts.user,
    sources,
    destDir,
    clock: opts.clock,
    ...(opts.kind === undefined ? {} : { kind: opts.kind }),
    consistency: guardFor(opts.mode ?? 'pause', opts.control),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    limits: opts.limits ?? DEFAULT_LIMITS,
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
  });
  try {
    // The read-back is recorded beside the archive: `ocm backups` shows it.
    await verifyAndRecord(result.archive, opts.clock);
  } catch (error) {
    // Read back wrong (disk trouble): it must not count as the backup retention
    // keeps. Archive first, as retention does: a sidecar left alone is never listed.
    await rm(result.archive, { force: true });
    await rm(sidecarName(result.archive), { force: true });
    await rm(verifyStateName(result.archive), { force: true });
    throw error;
  }
  const out: BackupUserResult = { ...result, pruned: [] };
  if (opts.copyTo !== undefined) {
    try {
      out.copy = await copyBackup(result.archive, join(opts.copyTo, opts.user));
    } catch (error) {
      out.copyError = (error as Error).message;
    }
  }
  if (opts.retention !== false) {
    const outcome = await applyRetention({
      backupsDir: opts.backupsDir,
      user: opts.user,
      newArchive: result.archive,
      now: opts.clock.now(),
      ...(opts.retention ? { policy: opts.retention } : {}),
    });
    out.pruned = outcome.pruned.map((b) => b.archive);
  }
  return out;
}
