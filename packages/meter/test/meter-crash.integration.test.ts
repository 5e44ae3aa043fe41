// kill -9 of the meter mid-stream: every call counted before stays counted,
// nothing is counted twice, and the budget holds across the restart.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { meterKey } from '@ocm/core';
import { openUsageStore } from '@ocm/meter';
import { startStandIn } from './stand-in-provider.js';
import { callMeter } from './meter-client.js';

const SECRET = 'crash-secret';
const COST = (800 * 1.25 + 200 * 0.125 + 500 * 10) / 1e6;
const script = fileURLToPath(new URL('./meter-process.ts', import.meta.url));

/** Start a meter process; resolves with its port, or rejects with its output if it exits first. */
function startMeter(t: TestContext, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--conditions=ocm-source', '--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      const match = /listening (\d+)/.exec(output);
      if (match !== null) resolve({ child, port: Number(match[1]) });
    });
    child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('exit', (code) => reject(new Error(`meter exited early (${code}): ${output}`)));
  });
}

test('kill -9 mid-stream keeps what was counted, never double-counts, and the budget survives', async (t) => {
  const standIn = await startStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'ocm-meter-crash-'));
  t.after(async () => { await standIn.close(); rmSync(dir, { recursive: true, force: true }); });
  const env = { METER_DB: join(dir, 'usage.db'), STAND_IN: standIn.url, METER_SECRET: SECRET, DAILY: String(COST * 2.5) };
  const key = meterKey(SECRET, 'alice');
  const call = (port: number, onFirstChunk?: () => void) =>
    callMeter(port, { from: '127.0.1.2', key, path: '/openai/chat/completions', body: { model: 'gpt-5', stream: true, messages: [] }, onFirstChunk });

  const first = await startMeter(t, env);
  assert.equal((await call(first.port)).status, 200);
  assert.equal((await call(first.port)).status, 200);
  standIn.delayMs = 500;
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  await call(first.port, () => { if (first.child.pid !== undefined) process.kill(first.child.pid, 'SIGKILL'); }).catch(() => undefined);
  await exited;
  assert.equal(first.child.signalCode, 'SIGKILL');
  standIn.delayMs = 0;

  const second = await startMeter(t, env);
  const store = openUsageStore(env.METER_DB);
  t.after(() => store.close());
  assert.equal(store.report({})[0]?.calls, 2, 'the two finished calls, once each; the killed one was never counted');
  assert.equal((await call(second.port)).status, 200, 'spent 2 of 2.5 calls\' worth: still allowed');
  const refused = await call(second.port);
  assert.equal(refused.status, 429, 'the restarted meter knows what was spent');
  assert.equal(store.report({})[0]?.calls, 3);
  assert.equal(standIn.received.length, 4);
});
