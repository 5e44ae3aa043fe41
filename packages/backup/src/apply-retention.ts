// Prunes a user's archives, and only right after a new backup succeeded: a
// failed run must never cost an older good backup.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OcmError } from '@ocm/core';
import { sidecarName, verifyStateName } from './archive-name.js';
import { fsyncDir } from './durable-fs.js';
import { listBackups, type BackupInfo } from './list-backups.js';
import { defaultRetention, planRetention, type RetentionPolicy } from './retention.js';

export interface ApplyRetentionOptions {
  backupsDir: string;
  user: string;
  /** The archive the successful run just wrote; it is always kept. */
  newArchive: string;
  now: Date;
  policy?: RetentionPolicy;
}

export interface RetentionOutcome {
  kept: BackupInfo[];
  pruned: BackupInfo[];
}

export async function applyRetention(opts: ApplyRetentionOptions): Promise<RetentionOutcome> {
  const all = await listBackups(opts.backupsDir, opts.user);
  const fresh = all.find((b) => resolve(b.archive) === resolve(opts.newArchive));
  if (!fresh) {
    throw new OcmError('OCM_E_BACKUP_FAILED', `not pruning backups of ${JSON.stringify(opts.user)}: ${opts.newArchive} is not a complete backup`, {
      hint: 'retention only runs after a new backup succeeded; older backups were kept',
      details: { user: opts.user, archive: opts.newArchive },
    });
  }
  // A run prunes only its own kind: a manual backup never costs a nightly one, nor the other way round.
  const plan = planRetention(all.map((b) => ({ ...b, path: b.archive })), opts.now, opts.policy ?? defaultRetention, fresh.kind);
  const pruned = plan.prune.filter((b) => b.archive !== fresh.archive);
  for (const b of pruned) {
    // Archive first: a kill between the two leaves a sidecar alone, which is
    // never listed and is tidied by the next run.
    await rm(b.archive, { force: true });
    await rm(sidecarName(b.archive), { force: true });
    await rm(verifyStateName(b.archive), { force: true });
  }
  if (pruned.length > 0) await fsyncDir(join(opts.backupsDir, opts.user));
  const prunedSet = new Set(pruned.map((b) => b.archive));
  return { kept: all.filter((b) => !prunedSet.has(b.archive)), pruned: all.filter((b) => prunedSet.has(b.archive)) };
}
