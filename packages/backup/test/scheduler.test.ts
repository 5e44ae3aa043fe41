// The nightly schedule: users in turn, one retry after a pause, last result per
// user for status, no overlapping runs, and a real node-cron tick.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { createBackupScheduler, runUsers, type BackupLogger, type ScheduleFn } from '../src/index.js';
import { fixedClock } from './helpers.js';

function memoryLogger(): BackupLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

test('runUsers goes user by user and retries a failed user once after the delay', async () => {
  const order: string[] = [];
  const sleeps: number[] = [];
  let bobTries = 0;
  const results = await runUsers({
    users: ['alice', 'bob', 'carol'],
    retryDelayMs: 1234,
    sleep: async (ms) => void sleeps.push(ms),
    clock: fixedClock('2026-10-01T03:00:00Z'),
    runOne: async (user) => {
      order.push(`start ${user}`);
      await delay(5);
      order.push(`end ${user}`);
      if (user === 'bob' && ++bobTries === 1) throw new Error('disk hiccup');
      if (user === 'carol') throw new Error('always broken');
      return { archive: `/b/${user}.tar.gz` };
    },
  });
  assert.deepEqual(order, ['start alice', 'end alice', 'start bob', 'end bob', 'start bob', 'end bob', 'start carol', 'end carol', 'start carol', 'end carol']);
  assert.deepEqual(sleeps, [1234, 1234]);
  assert.deepEqual(
    results.map((r) => [r.user, r.ok, r.attempts, r.archive ?? r.error]),
    [
      ['alice', true, 1, '/b/alice.tar.gz'],
      ['bob', true, 2, '/b/bob.tar.gz'],
      ['carol', false, 2, 'always broken'],
    ],
  );
});

test('the scheduler runs on its trigger, keeps the last result per user and skips overlapping runs', async () => {
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
    users: () => ['alice', 'bob'],
    runOne: async (user) => {
      runs += 1;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      if (user === 'bob') throw new Error('no space left');
      return { archive: `/b/${user}-${runs}.tar.gz` };
    },
    retryDelayMs: 0,
    logger,
    schedule,
    clock: fixedClock('2026-10-02T03:00:00Z'),
  });
  assert.ok(fire);
  fire();
  await delay(5);
  assert.equal(scheduler.running, true);
  assert.equal(await scheduler.runNow(), undefined, 'a second run while one is going is skipped');
  release?.();
  while (scheduler.running) await delay(5);
  const status = scheduler.status();
  assert.equal(status.get('alice')?.ok, true);
  assert.equal(status.get('alice')?.archive, '/b/alice-1.tar.gz');
  assert.equal(status.get('bob')?.ok, false);
  assert.equal(status.get('bob')?.error, 'no space left');
  assert.ok(logger.lines.some((l) => l.startsWith('warn backup run skipped')));
  await scheduler.stop();
  assert.equal(stopped, true);
});

test('a real node-cron per-second schedule fires', { timeout: 10_000 }, async () => {
  const seen: string[] = [];
  const scheduler = createBackupScheduler({ cron: '* * * * * *', users: () => ['alice'], runOne: async (u) => (seen.push(u), { archive: 'x' }), logger: memoryLogger() });
  try {
    for (let i = 0; i < 60 && seen.length === 0; i += 1) await delay(100);
    assert.deepEqual(seen.slice(0, 1), ['alice']);
  } finally {
    await scheduler.stop();
  }
});

test('an invalid cron expression is refused', () => {
  assert.throws(() => createBackupScheduler({ cron: 'every night', users: () => [], runOne: async () => ({ archive: '' }), logger: memoryLogger() }), {
    code: 'OCM_E_MANIFEST_INVALID',
  });
});
