// The nightly trigger: node-cron fires at the schedule in the time zone, and
// the run it starts is whatever the caller gives (the daemon: ops' backup
// loop, the same as `ocm backup --all --scheduled`). One run at a time: a
// firing while the last run still goes is skipped and logged. What each user's
// backup did is recorded by that loop, on disk, not here.
import { schedule as cronSchedule, validate } from 'node-cron';
import { OcmError } from '@ocm/core';
import type { BackupLogger } from './types.js';

export interface ScheduledJob {
  stop(): void | Promise<void>;
}

/** How a job is scheduled; node-cron by default, injectable for tests. */
export type ScheduleFn = (expression: string, fire: () => void, options: { timezone?: string }) => ScheduledJob;

export const nodeCronSchedule: ScheduleFn = (expression, fire, options) =>
  cronSchedule(expression, fire, { ...options, name: 'ocm-backups' });

export interface BackupSchedulerOptions {
  /** 5 or 6 fields (node-cron); default every night at 03:00. */
  cron?: string;
  timezone?: string;
  /** One whole run. */
  run: () => Promise<void>;
  logger: BackupLogger;
  schedule?: ScheduleFn;
}

export interface BackupScheduler {
  /** Starts a run now unless one is going (then resolves at once, false). */
  runNow(): Promise<boolean>;
  readonly running: boolean;
  /** No more firings; waits for a run that is going. */
  stop(): Promise<void>;
}

export function createBackupScheduler(opts: BackupSchedulerOptions): BackupScheduler {
  const cron = opts.cron ?? '0 3 * * *';
  if (!validate(cron)) {
    throw new OcmError('OCM_E_MANIFEST_INVALID', `backup schedule ${JSON.stringify(cron)} is not a cron expression`, {
      hint: 'use 5 or 6 fields, e.g. "0 3 * * *" for 03:00 every night',
    });
  }
  let current: Promise<void> | undefined;

  const runNow = async (): Promise<boolean> => {
    if (current) {
      opts.logger.warn({}, 'backup run skipped: the previous run is still going');
      return false;
    }
    current = opts.run();
    try {
      await current;
      return true;
    } finally {
      current = undefined;
    }
  };

  const fire = (): void => {
    runNow().catch((error: unknown) => opts.logger.error({ err: (error as Error).message }, 'backup run crashed'));
  };
  const job = (opts.schedule ?? nodeCronSchedule)(cron, fire, opts.timezone === undefined ? {} : { timezone: opts.timezone });

  return {
    runNow,
    get running() {
      return current !== undefined;
    },
    async stop() {
      await job.stop();
      await current?.catch(() => undefined);
    },
  };
}
