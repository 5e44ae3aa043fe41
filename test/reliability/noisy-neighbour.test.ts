// A noisy neighbour: alice (cpus 0.5, memory 128m, pids 64) burns CPU, forks
// until the pids limit, and allocates past her memory limit, round after
// round. She is capped, OOM-killed and restarted; bob's /healthz is sampled
// the whole time, and quiet and storm windows alternate so that load from
// outside the test falls on both alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { getDocker } from '../support/docker.js';
import { httpJson, waitFor } from '../support/wait.js';
import { probeHealth, sleep, summarize, type Sample } from './support/measure.js';
import { record } from './support/record.js';

const docker = getDocker();
const ROUNDS = 5;
const PER_WINDOW = 100; // samples per quiet and per storm window: 500 each in all
const GAP_MS = 50;
const MEMORY = 128 * 1024 ** 2;

interface Stats {
  cpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { usage?: number; limit?: number };
  pids_stats?: { current?: number; limit?: number };
  read: string;
}
const stats = async (name: string): Promise<Stats> => await docker.getContainer(name).stats({ stream: false });

test('alice\'s CPU, fork and memory storm leaves bob answering', { timeout: 400_000 }, async (t) => {
  const { root, portBase, project } = await testRoot(t);
  const alice = `${project}-alice`;
  let r = await ocm(['add', 'alice', '--env', 'OCM_FIXTURE_CHAOS=1', '--cpus', '0.5', '--memory', '128m', '--pids', '64'], { root });
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'bob'], { root });
  assert.equal(r.code, 0, r.stderr);
  const alicePort = portBase;
  const bobPort = portBase + 1;
  const chaos = (path: string, timeoutMs = 30_000) => httpJson<Record<string, unknown>>(`http://127.0.0.1:${alicePort}/fixture/${path}`, { method: 'POST', timeoutMs });

  // Docker's own record of what happened to alice.
  const events: Array<{ status: string; time: number }> = [];
  const stream = (await docker.getEvents({ filters: JSON.stringify({ container: [alice], type: ['container'] }) })) as NodeJS.ReadableStream & { destroy(): void };
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      try {
        const e = JSON.parse(line) as { status?: string; Action?: string; time: number };
        events.push({ status: e.status ?? e.Action ?? '?', time: e.time });
      } catch { /* partial line */ }
    }
  });
  t.after(() => stream.destroy());

  // Bob is sampled every GAP_MS from start to end; each sample is tagged with the window it fell in.
  let phase: 'quiet' | 'storm' = 'quiet';
  let stop = false;
  const samples: Record<'quiet' | 'storm', Sample[]> = { quiet: [], storm: [] };
  const deadline = Date.now() + 300_000;
  const sampler = (async () => {
    while (!stop && Date.now() < deadline) {
      const p = phase;
      const s = await probeHealth(bobPort, 5_000);
      samples[p].push(s);
      await sleep(GAP_MS);
    }
  })();
  const until = async (p: 'quiet' | 'storm', count: number): Promise<void> => {
    while (samples[p].length < count && Date.now() < deadline) await sleep(20);
  };

  const cpu: number[] = [];
  const pids: Array<{ peak: number; limit: number | undefined; error: unknown; spawned: unknown }> = [];
  const restarts: number[] = [];
  const oomRecovery: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    phase = 'quiet';
    await until('quiet', round * PER_WINDOW);
    phase = 'storm';
    const stormStart = samples.storm.length;
    // CPU: four busy threads against a 0.5 CPU quota, measured by the engine's own counters.
    const burn = chaos('burn?ms=5000&threads=4', 20_000);
    await sleep(1_000);
    const a = await stats(alice);
    const t0 = Date.now();
    await sleep(2_500);
    const b = await stats(alice);
    cpu.push((b.cpu_stats.cpu_usage.total_usage - a.cpu_stats.cpu_usage.total_usage) / 1e9 / ((Date.now() - t0) / 1000));
    // Fork bomb: node children until the pids limit says no.
    const bomb = await chaos('forkbomb?n=500', 60_000);
    const during = await stats(alice);
    pids.push({ peak: during.pids_stats?.current ?? -1, limit: during.pids_stats?.limit, error: bomb.json?.error, spawned: bomb.json?.spawned });
    await burn.catch(() => undefined);
    // Memory: allocate twice the limit; the kernel kills her, Docker restarts her.
    const before = (await docker.getContainer(alice).inspect()).RestartCount;
    const hogAt = Date.now();
    await chaos('hog?mb=256', 30_000).catch(() => undefined);
    const after = await waitFor(async () => {
      const info = await docker.getContainer(alice).inspect();
      if (info.RestartCount <= before || !info.State.Running) return undefined;
      const h = await probeHealth(alicePort, 1_000);
      return h.ok ? info : undefined;
    }, { what: `alice restarted after OOM (round ${round})`, timeoutMs: 90_000, intervalMs: 100 });
    oomRecovery.push(Date.now() - hogAt);
    restarts.push(after.RestartCount);
    assert.equal(after.State.OOMKilled, true, 'the last exit was an OOM kill');
    await until('storm', stormStart + PER_WINDOW);
  }
  stop = true;
  await sampler;
  await sleep(300);

  const quiet = summarize(samples.quiet.slice(0, ROUNDS * PER_WINDOW));
  const storm = summarize(samples.storm);
  const ooms = events.filter((e) => e.status === 'oom').length;
  const dies = events.filter((e) => e.status === 'die').length;
  const figures = {
    rounds: ROUNDS,
    bobQuiet: quiet,
    bobStorm: storm,
    p99Ratio: Math.round((storm.p99 / quiet.p99) * 100) / 100,
    aliceCpusUsed: cpu.map((x) => Math.round(x * 1000) / 1000),
    alicePids: pids,
    aliceOomEvents: ooms,
    aliceDieEvents: dies,
    aliceRestartCount: restarts.at(-1),
    oomToHealthyMs: oomRecovery,
    bobErrors: [...samples.quiet, ...samples.storm].filter((s) => !s.ok).slice(0, 5).map((s) => s.error),
  };
  record(t, 'noisy-neighbour', figures);

  // She is capped...
  for (const used of cpu) assert.ok(used <= 0.5 * 1.1 + 0.02, `alice used ${used.toFixed(3)} CPUs with a 0.5 quota`);
  for (const p of pids) {
    assert.equal(p.limit, 64);
    assert.ok(p.peak <= 64, `alice had ${p.peak} pids`);
    assert.equal(p.error, 'EAGAIN', 'the fork bomb hit the pids limit');
  }
  const limits = await stats(alice);
  assert.equal(limits.memory_stats.limit, MEMORY);
  // ...OOM-killed and restarted each round...
  assert.ok(ooms >= ROUNDS, `${ooms} oom events`);
  assert.ok((restarts.at(-1) ?? 0) >= ROUNDS, `restart count ${restarts.at(-1)}`);
  // ...and bob never failed, with his p99 within twice his quiet p99.
  assert.equal(quiet.failed, 0, JSON.stringify(figures.bobErrors));
  assert.equal(storm.failed, 0, JSON.stringify(figures.bobErrors));
  assert.ok(storm.n >= ROUNDS * PER_WINDOW && quiet.n >= ROUNDS * PER_WINDOW, `samples: ${quiet.n} quiet, ${storm.n} storm`);
  // The 2x p99 target is a figure, not an assertion: timing depends on what
  // else the host runs (house rule: speed targets are measured, not asserted).
  // It is recorded here and in RELIABILITY.md.
  t.diagnostic(`bob p99 ${storm.p99} ms in the storm vs ${quiet.p99} ms quiet (${(storm.p99 / quiet.p99).toFixed(2)}x, target <= 2x)`);
  const bob = await docker.getContainer(`${project}-bob`).inspect();
  assert.equal(bob.RestartCount, 0, 'bob never restarted');
  assert.equal(bob.State.OOMKilled, false);
});
