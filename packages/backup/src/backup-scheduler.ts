// The nightly run: node-cron fires, users are backed up in turn, and the last
// result per user is kept for `ocm status` and the daemon's status page.
import { schedule as cronSchedule, validate } from 'node-cron';
import { OcmError } from '@ocm/core';
import { runUsers, type UserRunResult } from './run-users.js';
import { systemClock, type BackupLogger, type Clock } from './types.js';

export interface ScheduledJob {
  stop(): void | Promise<void>;
}

/** How a job is scheduled; node-cron by default, injectable for tests. */
export type ScheduleFn = (expression: string, fire: () => void, options: { timezone?: string }) => ScheduledJob;

export const nodeCronSchedule: ScheduleFn = (expression, fire, options) =>
  cronSchedule(expression, fire, { ...options, name: 'ocm-backups', noOverlap: true });

export interface BackupSchedulerOptions {
  /** 5 or 6 fields (node-cron); default every night at 03:00. */
  cron?: string;
  timezone?: string;
  /** The users to back up at each run, read when the run starts (the manifest may have changed). */
  users: () => readonly string[] | Promise<readonly string[]>;
  runOne: (user: string) => Promise<{ archive: string }>;
  retryDelayMs?: number;
  logger: BackupLogger;
  clock?: Clock;
  schedule?: ScheduleFn;
  sleep?: (ms: number) => Promise<void>;
}

export interface BackupScheduler {
  /** Runs all users now unless a run is already going (then resolves to undefined). */
  runNow(): Promise<UserRunResult[] | undefined>;
  /** Last result per user, as of the most recent run that included them. */
  status(): ReadonlyMap<string, UserRunResult>;
  readonly running: boolean;
  stop(): Promise<void>;
}

export function createBackupScheduler(opts: BackupSchedulerOptions): BackupScheduler {
  const cron = opts.cron ?? '0 3 * * *';
  if (!validate(cron)) {
    throw new OcmError('OCM_E_MANIFEST_INVALID', `backup schedule ${JSON.stringify(cron)} is not a cron expression`, {
      hint: 'use 5 or 6 fields, e.g. "0 3 * * *" for 03:00 every night',
    });
  }
  const last = new Map<string, UserRunResult>();
  let current: Promise<UserRunResult[]> | undefined;

  const runNow = async (): Promise<UserRunResult[] | undefined> => {
    if (current) {
      opts.logger.warn({}, 'backup run skipped: the previous run is still going');
      return undefined;
    }
    const run = (async () => {
      const users = await opts.users();
      opts.logger.info({ users: users.length }, 'backup run started');
      const results = await runUsers({
        users,
        runOne: opts.runOne,
        retryDelayMs: opts.retryDelayMs ?? 60_000,
        logger: opts.logger,
        clock: opts.clock ?? systemClock,
        ...(opts.sleep ? { sleep: opts.sleep } : {}),
      });
      for (const r of results) last.set(r.user, r);
      opts.logger.info({ ok: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length }, 'backup run finished');
      return results;
    })();
    current = run;
    try {
      return await run;
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
    status: () => last,
    get running() {
      return current !== undefined;
    },
    async stop() {
      await job.stop();
      await current?.catch(() => undefined);
    },
  };
}
