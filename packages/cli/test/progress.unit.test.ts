// Progress without a terminal (cron, CI logs): one line per phase change, a
// reminder while a phase lasts, plain words for raw probe answers; and the
// live block's lines on a terminal, cut to its width.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HealthProgress, ReconcileEvent } from '@ocm/engine';
import { Board, boardLines, plainProbe } from '../src/progress-board.js';
import { progress } from '../src/progress.js';

function logged(): { lines: string[]; io: { out: (t: string) => void; err: (t: string) => void; isTTY: boolean; env: NodeJS.ProcessEnv } } {
  const lines: string[] = [];
  return { lines, io: { out: () => undefined, err: (t) => lines.push(t), isTTY: false, env: {} } };
}

const health = (user: string, elapsedMs: number, detail: string): HealthProgress => ({ user, elapsedMs, state: 'running', detail });
const event = (user: string, kind: ReconcileEvent['kind'], status: ReconcileEvent['status']): ReconcileEvent => ({ user, kind, status, reason: 'test' });

test('raw probe answers read as plain words', () => {
  assert.equal(plainProbe('ECONNRESET'), 'not answering yet');
  assert.equal(plainProbe('ECONNREFUSED'), 'not answering yet');
  assert.equal(plainProbe('socket hang up'), 'not answering yet');
  assert.equal(plainProbe('ETIMEDOUT'), 'slow to answer');
  assert.equal(plainProbe('HTTP 503 without "ok": true'), 'answering, not ready yet (HTTP 503)');
});

test('without a terminal: a line per phase change for each user, a reminder every 15 s, the end with its time', () => {
  let now = 0;
  const { lines, io } = logged();
  const bar = progress(io, { tty: false, now: () => now });
  bar.pull('img:1', { status: 'Downloading', progress: '[==>   ]' });
  bar.pull('img:1', { status: 'Extracting' });
  bar.event(event('alice', 'create', 'begin'));
  bar.event(event('bob', 'create', 'begin'));
  now = 300;
  for (let t = 300; t <= 20_000; t += 250) {
    now = t;
    bar.health(health('alice', t, t < 2000 ? 'ECONNRESET' : 'ECONNREFUSED'));
    bar.health(health('bob', t, t < 8000 ? 'ECONNREFUSED' : 'HTTP 503 without "ok": true'));
  }
  now = 20_500;
  bar.event(event('alice', 'create', 'done'));
  bar.event(event('bob', 'create', 'failed'));
  bar.done();
  assert.deepEqual(lines, [
    'img:1: pulling the image: Downloading [==>   ]',
    'alice: creating its container',
    'bob: creating its container',
    'alice: waiting for health (0.3s in): not answering yet',
    'bob: waiting for health (0.3s in): not answering yet',
    'bob: waiting for health (8.1s in): answering, not ready yet (HTTP 503)',
    'alice: waiting for health (15.3s in): not answering yet',
    'alice: healthy (20.5s)',
    'bob: failed: test (20.5s)',
  ]);
});

test('a step with its own phases (restore) logs each once; detail alone is not a new line', () => {
  let now = 0;
  const { lines, io } = logged();
  const bar = progress(io, { tty: false, now: () => now });
  bar.phase('alice', 'unpacking and verifying the archive');
  now = 1000;
  bar.phase('alice', 'writing the archive', '10% of 5 MB');
  now = 1100;
  bar.phase('alice', 'writing the archive', '90% of 5 MB');
  now = 2000;
  bar.finish('alice', 'backed up');
  assert.deepEqual(lines, ['alice: unpacking and verifying the archive', 'alice: writing the archive (1.0s in): 10% of 5 MB', 'alice: backed up (2.0s)']);
});

test('on a terminal the block has a line per user at work, names aligned, cut to the width; nothing is logged', () => {
  const board = new Board();
  board.set('alice', 'waiting for health', 'not answering yet', 0);
  board.set('bob-the-builder', 'creating its container', '', 500);
  const lines = boardLines(board, 3000, 40);
  assert.deepEqual(lines, ['alice            waiting for health 3.0…', 'bob-the-builder  creating its container…']);
  assert.ok(lines.every((l) => l.length <= 40));
  const { lines: logged2, io } = logged();
  const bar = progress(io, { tty: true, now: () => 0 });
  bar.event(event('alice', 'create', 'begin'));
  bar.done();
  assert.deepEqual(logged2, []);
});
