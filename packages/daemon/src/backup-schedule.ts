// The nightly backups: node-cron (through the backup package's trigger) fires
// at settings.backup.schedule in settings.timezone and hands the whole run to
// ops' backup loop, the same as `ocm backup --all --scheduled`: it goes user
// by user, retries a failed user once after a pause, and records each
// outcome on disk (lastBackupResult), where status reads it. The lane keeps
// it from running beside a backup the API started.
import type { Manifest } from '@ocm/core';
import { createBackupScheduler, type BackupScheduler, type ScheduleFn } from '@ocm/backup';
import type { Logger } from 'pino';
import type { RunBackups } from './backup-process.js';
import type { SerialLane } from './serial-lane.js';

export interface BackupScheduleOptions {
  manifest: Manifest;
  lane: SerialLane;
  logger: Logger;
  /** How users are backed up (the daemon: `ocm backup` in a child process). */
  run: RunBackups;
  schedule?: ScheduleFn;
  /** Pause before the one retry of a failed user (default: the backup command's own, 60 s). */
  retryDelayMs?: number;
}

export function startBackupSchedule(options: BackupScheduleOptions): BackupScheduler {
  const { lane, logger } = options;
  return createBackupScheduler({
    cron: options.manifest.settings.backup.schedule,
    timezone: options.manifest.settings.timezone,
    run: () =>
      lane.run(async () => {
        logger.info({}, 'backup run started');
        // Every user of the manifest as it is when the run starts.
        const outcomes = await options.run([], { scheduled: true, ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }) });
        for (const o of outcomes.filter((x) => !x.ok)) logger.error({ user: o.user, attempts: o.attempts, err: o.error?.message }, 'backup failed');
        logger.info({ ok: outcomes.filter((o) => o.ok).length, failed: outcomes.filter((o) => !o.ok).length }, 'backup run finished');
      }),
    logger,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
  });
}
