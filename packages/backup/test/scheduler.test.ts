// The nightly trigger: it fires the run it was given, in the time zone, never
// two runs at once, and a real node-cron tick.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { createBackupScheduler, type BackupLogger, type ScheduleFn } from '../src/index.js';

function memoryLogger(): BackupLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

test('the scheduler runs on its trigger and skips a firing while the last run still goes', async () => {
  let fire: (() => void) | undefined;
  let stopped = false;
  const schedule: ScheduleFn = (expression, f, options) => {
    assert.equal(expression, '0 3 * * *');
    assert.deepEqual(options, { timezone: 'Europe/Berlin' });
    fire = f;
    return { stop: () => void (stopped = true) };
  };
  let release: (() => void) | undefined;
  let runs = 0;
  const logger = memoryLogger();
  const scheduler = createBackupScheduler({
    timezone: 'Europe/Berlin',
    run: async () => {
      runs += 1;
      await new Promise<void>((r) => (release = r));
    },
    logger,
    schedule,
  });
  assert.ok(fire);
  fire();
  await delay(5);
  assert.equal(scheduler.running, true);
  assert.equal(await scheduler.runNow(), false, 'a second run while one is going is skipped');
  fire();
  assert.equal(runs, 1);
  release?.();
  while (scheduler.running) await delay(5);
  assert.ok(logger.lines.some((l) => l.startsWith('warn backup run skipped')));
  const next = scheduler.runNow();
  await delay(5);
  release?.();
  assert.equal(await next, true);
  assert.equal(runs, 2);
  await scheduler.stop();
  assert.equal(stopped, true);
});

test('a run that throws is logged and the next firing runs again', async () => {
  let fire: (() => void) | undefined;
  const logger = memoryLogger();
  let runs = 0;
  const scheduler = createBackupScheduler({
    run: async () => {
      runs += 1;
      throw new Error('backup command not found');
    },
    logger,
    schedule: (_e, f) => ((fire = f), { stop: () => undefined }),
  });
  fire?.();
  await delay(5);
  assert.ok(logger.lines.some((l) => l.startsWith('error backup run crashed') && l.includes('backup command not found')), logger.lines.join('\n'));
  fire?.();
  await delay(5);
  assert.equal(runs, 2);
  await scheduler.stop();
});

test('a real node-cron per-second schedule fires', { timeout: 10_000 }, async () => {
  let fired = 0;
  const scheduler = createBackupScheduler({ cron: '* * * * * *', run: async () => void (fired += 1), logger: memoryLogger() });
  try {
    for (let i = 0; i < 60 && fired === 0; i += 1) await delay(100);
    assert.ok(fired > 0);
  } finally {
    await scheduler.stop();
  }
});

test('an invalid cron expression is refused', () => {
  assert.throws(() => createBackupScheduler({ cron: 'every night', run: async () => undefined, logger: memoryLogger() }), {
    code: 'OCM_E_MANIFEST_INVALID',
  });
});
