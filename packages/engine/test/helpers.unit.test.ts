import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { createDemuxStream, crashReason, demuxBuffer, probeDelay, judgeHealthz, lastLines, mapLimit, toDetails, toStatsSnapshot } from '@ocm/engine';

function frame(kind: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

test('demuxBuffer splits stdout and stderr and keeps arrival order', () => {
  const out = demuxBuffer(Buffer.concat([frame(1, 'a\n'), frame(2, 'oops\n'), frame(1, 'b\n')]));
  assert.equal(out.stdout.toString(), 'a\nb\n');
  assert.equal(out.stderr.toString(), 'oops\n');
  assert.equal(out.combined.toString(), 'a\noops\nb\n');
  assert.equal(demuxBuffer(Buffer.from('plain tty text')).stdout.toString(), 'plain tty text');
});

test('createDemuxStream reassembles frames split across chunks', async () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'world\n')]);
  const chunks = [all.subarray(0, 3), all.subarray(3, 11), all.subarray(11)];
  assert.equal(await text(Readable.from(chunks).pipe(createDemuxStream())), 'hello world\n');
});

test('lastLines keeps the last non-empty lines', () => {
  assert.deepEqual(lastLines('1\n2\n\n3\n4\n', 2), ['3', '4']);
});

test('judgeHealthz wants JSON ok === true, not just a 200', () => {
  assert.equal(judgeHealthz(200, '{"ok":true,"status":"live"}').ok, true);
  assert.equal(judgeHealthz(200, '<!doctype html><title>Control UI</title>').ok, false);
  assert.equal(judgeHealthz(503, '{"ok":false}').ok, false);
  assert.equal(judgeHealthz(200, '{"ok":"yes"}').ok, false);
});

test('crashReason stops the wait on exit, restart, or a restart count that moved', () => {
  // Through toDetails, as the engine reads Docker's inspect.
  const info = (state: Partial<Docker.ContainerInspectInfo['State']>, restarts = 0) => toDetails({
    Id: 'c1', Name: '/ocm-alice', Image: 'sha256:1', RestartCount: restarts,
    Config: { Image: 'gw:1', Labels: {} }, HostConfig: { PortBindings: { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: '18800' }] } },
    State: { Status: 'running', Running: true, Restarting: false, Paused: false, OOMKilled: false, ExitCode: 0, StartedAt: '2026-12-05T00:00:00Z', ...state },
  } as unknown as Docker.ContainerInspectInfo);
  assert.deepEqual({ ...info({}), labels: undefined }, {
    id: 'c1', name: 'ocm-alice', image: 'gw:1', imageId: 'sha256:1', state: 'running', exitCode: 0, oomKilled: false,
    startedAt: '2026-12-05T00:00:00Z', restartCount: 0, health: undefined, labels: undefined, hostPorts: { '18789/tcp': ['18800'] },
  });
  assert.equal(crashReason(info({}), 0), undefined);
  assert.match(crashReason(info({ Status: 'exited', ExitCode: 137, OOMKilled: true }), 0)!, /exit code 137, OOM-killed/);
  assert.match(crashReason(info({ Status: 'restarting', Restarting: true, ExitCode: 1 }), 0)!, /restarting/);
  assert.match(crashReason(info({}, 2), 1)!, /restarted 1 time while/);
  assert.equal(crashReason(info({}, 2), 2), undefined);
  // With restarts tolerated: a first restart (or the backoff before it) is waited out, a third is not.
  assert.equal(crashReason(info({ Status: 'restarting', Restarting: true, ExitCode: 1 }, 1), 0, 2), undefined);
  assert.equal(crashReason(info({}, 2), 0, 2), undefined);
  assert.match(crashReason(info({ Status: 'restarting', Restarting: true, ExitCode: 1 }, 2), 0, 2)!, /restarting \(last exit code 1\)/);
  assert.match(crashReason(info({}, 3), 0, 2)!, /restarted 3 times while starting/);
  assert.match(crashReason(info({ Status: 'exited', ExitCode: 1 }, 1), 0, 2)!, /exited/);
});

test('toStatsSnapshot computes CPU like docker stats and leaves page cache out', () => {
  const raw = {
    cpu_stats: { cpu_usage: { total_usage: 3_000_000, percpu_usage: [] }, system_cpu_usage: 20_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
    memory_stats: { usage: 100 * 1024 * 1024, limit: 256 * 1024 * 1024, stats: { total_inactive_file: 20 * 1024 * 1024 } },
    pids_stats: { current: 7 },
  } as unknown as Docker.ContainerStats;
  assert.deepEqual(toStatsSnapshot(raw, 128), {
    cpuPercent: 40,
    memoryBytes: 80 * 1024 * 1024,
    memoryLimitBytes: 256 * 1024 * 1024,
    pids: 7,
    pidsLimit: 128,
  });
});

test('mapLimit never runs more than the limit at once and keeps order', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, n * 3));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
  assert.equal(peak, 2);
});

test('mapLimit starts nothing after a failure and throws once the running calls settled', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
    started.push(n);
    await new Promise((r) => setTimeout(r, n === 1 ? 30 : 5));
    settled.push(n);
    if (n === 0) throw new Error('boom');
    return n;
  });
  await assert.rejects(run, /boom/);
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(settled.sort(), [0, 1]);
});

test('probeDelay starts at 20 ms, grows by 15 %, and never passes the interval', () => {
  assert.deepEqual(Array.from({ length: 8 }, (_, i) => probeDelay(i, 1000)), [20, 23, 26, 30, 35, 40, 46, 53]);
  assert.deepEqual([probeDelay(27, 1000), probeDelay(28, 1000), probeDelay(60, 1000)], [871, 1000, 1000]);
  assert.deepEqual([probeDelay(0, 10), probeDelay(18, 200), probeDelay(10_000, 5000)], [10, 200, 5000]);
  // The first second is covered by probes no more than 0.25 s apart.
  let t = 0;
  for (let i = 0; t < 1000; i++) {
    assert.ok(probeDelay(i, 1000) <= 250, `gap ${probeDelay(i, 1000)} ms at ${t} ms`);
    t += probeDelay(i, 1000);
  }
});
