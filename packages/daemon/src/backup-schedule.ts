// The nightly backups: node-cron (through the backup package's scheduler)
// fires at settings.backup.schedule in settings.timezone, and every user is
// backed up in turn by ops' backupUsers, the same code as `ocm backup`. A
// user whose backup fails is retried once after a pause; each outcome is
// recorded on disk, where status reads it (lastBackupResult).
import { ERROR_CODES, OcmError, type ErrorCode, type Manifest } from '@ocm/core';
import { createBackupScheduler, type BackupScheduler, type ScheduleFn } from '@ocm/backup';
import { backupUsers, type RuntimeContext, type UserBackupOutcome } from '@ocm/ops';
import type { Logger } from 'pino';
import type { SerialLane } from './serial-lane.js';

export interface BackupScheduleOptions {
  ctx: RuntimeContext;
  manifest: Manifest;
  lane: SerialLane;
  logger: Logger;
  schedule?: ScheduleFn;
  /** Pause before the one retry of a failed user (default 60 s). */
  retryDelayMs?: number;
  /** How users are backed up (default: ops' backupUsers in this process); called with scheduled: true. */
  run?: (names: readonly string[], options: { scheduled: boolean }) => Promise<UserBackupOutcome[]>;
}

export function startBackupSchedule(options: BackupScheduleOptions): BackupScheduler {
  const { ctx, lane } = options;
  const run = options.run ?? ((names: readonly string[], runOptions: { scheduled: boolean }) => backupUsers(ctx, names, runOptions));
  return createBackupScheduler({
    cron: options.manifest.settings.backup.schedule,
    timezone: options.manifest.settings.timezone,
    // Read at each run: users added since the daemon started are included.
    users: async () => (await ctx.root.load()).manifest.users.map((u) => u.name),
    runOne: (user) =>
      lane.run(async () => {
        // Nightly archives: retention keeps them by day and week, apart from the admin's manual ones.
        const [outcome] = await run([user], { scheduled: true });
        if (outcome?.ok === true && outcome.archive !== undefined) return { archive: outcome.archive };
        const code = (outcome?.error?.code ?? 'OCM_E_BACKUP_FAILED') as ErrorCode;
        throw new OcmError(code in ERROR_CODES ? code : 'OCM_E_BACKUP_FAILED', outcome?.error?.message ?? `backup of ${user} failed`);
      }),
    retryDelayMs: options.retryDelayMs ?? 60_000,
    logger: options.logger,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
  });
}
