// Backs users up one after another (one gzip at a time keeps the host
// responsive) and gives each failed user one more try after a pause.
import { setTimeout as delay } from 'node:timers/promises';
import { isOcmError } from '@ocm/core';
import { systemClock, type BackupLogger, type Clock } from './types.js';

export interface UserRunResult {
  user: string;
  ok: boolean;
  /** When the (last) attempt finished. */
  time: Date;
  attempts: number;
  archive?: string;
  error?: string;
  code?: string;
}

export interface RunUsersOptions {
  users: readonly string[];
  runOne: (user: string) => Promise<{ archive: string }>;
  retryDelayMs: number;
  logger?: BackupLogger;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export async function runUsers(opts: RunUsersOptions): Promise<UserRunResult[]> {
  const clock = opts.clock ?? systemClock;
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const results: UserRunResult[] = [];
  for (const user of opts.users) {
    let result: UserRunResult | undefined;
    for (let attempt = 1; attempt <= 2 && !result?.ok; attempt += 1) {
      if (attempt === 2) await sleep(opts.retryDelayMs);
      try {
        const { archive } = await opts.runOne(user);
        result = { user, ok: true, time: clock.now(), attempts: attempt, archive };
        opts.logger?.info({ user, archive, attempt }, 'backup done');
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result = { user, ok: false, time: clock.now(), attempts: attempt, error: message };
        if (isOcmError(error)) result.code = error.code;
        opts.logger?.[attempt === 1 ? 'warn' : 'error']({ user, attempt, err: message }, attempt === 1 ? 'backup failed; retrying once' : 'backup failed twice');
      }
    }
    results.push(result as UserRunResult);
  }
  return results;
}
