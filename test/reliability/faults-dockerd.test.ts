// dockerd restarted under ocm: every user's gateway comes back healthy by its
// restart policy, `ocm status` works again, and the daemon (admin status API,
// embedded proxy and the tenant network policy) recovers by itself, without
// being restarted.
//
// This stops the engine for everyone on the host, so it only runs with
// OCM_TEST_DOCKERD_RESTART=1 or CI=true, and only when no other test run is
// going on (it waits up to 5 minutes for one to finish).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { dockerAvailable, getDocker } from '../support/docker.js';
import { httpJson, waitFor } from '../support/wait.js';
import { startDaemon } from './support/daemon.js';
import { probeHealth, run, sleep } from './support/measure.js';
import { record } from './support/record.js';

const enabled = process.env.OCM_TEST_DOCKERD_RESTART === '1' || process.env.CI === 'true';

/** `node --test` runs other than the one this file belongs to. */
async function otherTestRuns(): Promise<string[]> {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1;) {
    mine.add(pid);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  const r = await run('pgrep', ['-af', 'node.*--test']);
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !mine.has(Number(l.split(' ')[0])));
}

function dockerdCommand(pid: number): { argv: string[]; log: string } {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  let log = '/var/log/dockerd.log';
  try {
    const out = readlinkSync(`/proc/${pid}/fd/2`);
    if (out.startsWith('/')) log = out;
  } catch { /* keep the default */ }
  return { argv, log };
}

/** Starts dockerd detached, the way it was started, appending to its log. */
function startDockerd(argv: string[], log: string): void {
  const fd = openSync(log, 'a');
  const child = spawn('setsid', argv, { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
}

test('dockerd restarted under ocm', { skip: enabled ? false : 'stops the engine for everyone: set OCM_TEST_DOCKERD_RESTART=1 (CI=true runs it)', timeout: 1_200_000 }, async (t) => {
  let others = await otherTestRuns();
  const waitUntil = Date.now() + 300_000;
  while (others.length > 0 && Date.now() < waitUntil) {
    await sleep(10_000);
    others = await otherTestRuns();
  }
  if (others.length > 0) {
    t.skip(`other test runs use the engine: ${others.map((l) => l.slice(0, 80)).join(' | ')}`);
    return;
  }
  const docker = getDocker();
  const { root, portBase, proxyPort, project, pool, stopFirst } = await testRoot(t);
  for (const name of ['alice', 'bob']) {
    const r = await ocm(['add', name, '--env', `OCM_FIXTURE_USER=${name}`], { root });
    assert.equal(r.code, 0, r.stderr);
  }
  const ports = { alice: portBase, bob: portBase + 1 };
  const running = await startDaemon(t, root, { policyIntervalMs: 1_000 }, stopFirst);
  const jumps = async () => {
    const rules = (await run('iptables', ['-S'])).stdout.split('\n');
    return { fwd: rules.includes(`-A DOCKER-USER -s ${pool} -j OCM-${project}-FWD`), input: rules.includes(`-A INPUT -s ${pool} -j OCM-${project}-IN`) };
  };
  assert.deepEqual(await jumps(), { fwd: true, input: true }, 'the network policy is in place before the restart');
  const status = () => httpJson<{ users?: Array<{ name: string; state?: string; route?: string; health?: string }> }>(`${running.addresses.admin.url}/api/status`, { headers: { authorization: `Bearer ${running.token}` }, timeoutMs: 5_000 });
  assert.equal((await status()).status, 200);

  const pids = (await run('pgrep', ['-x', 'dockerd'])).stdout.trim().split('\n').filter(Boolean).map(Number);
  assert.equal(pids.length, 1, `one dockerd expected, found ${pids.join(',')}`);
  const pid = pids[0] as number;
  const { argv, log } = dockerdCommand(pid);
  const ids = { alice: (await docker.getContainer(`${project}-alice`).inspect()).Id, bob: (await docker.getContainer(`${project}-bob`).inspect()).Id };
  const figures: Record<string, unknown> = { dockerd: argv.join(' '), log };

  const t0 = Date.now();
  try {
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !existsSync(`/proc/${pid}`), { what: 'dockerd to exit', timeoutMs: 300_000, intervalMs: 200 });
    figures.stopMs = Date.now() - t0;
    // While the engine is down ocm says so in one line.
    const down = await ocm(['status'], { root });
    figures.statusWhileDown = { exit: down.code, error: down.stderr.split('\n').find((l) => l.startsWith('error:')) };
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /^error: .*(Docker|docker)/m);
    const apiDown = await status().catch((e: Error) => ({ status: 0, text: e.message }));
    figures.apiWhileDown = `${apiDown.status} ${apiDown.text.slice(0, 160)}`;
    startDockerd(argv, log);
    await waitFor(() => dockerAvailable(docker), { what: 'docker info after the restart', timeoutMs: 300_000, intervalMs: 250 });
    figures.engineBackMs = Date.now() - t0;
  } finally {
    // Never leave the host without an engine.
    if (!(await dockerAvailable(docker)) && (await run('pgrep', ['-x', 'dockerd'])).stdout.trim() === '') {
      startDockerd(argv, log);
      await waitFor(() => dockerAvailable(docker), { what: 'docker back (cleanup)', timeoutMs: 300_000, intervalMs: 500 }).catch(() => undefined);
    }
  }

  for (const name of ['alice', 'bob'] as const) {
    await waitFor(async () => (await probeHealth(ports[name], 1_000)).ok, { what: `${name} healthy after the restart`, timeoutMs: 120_000, intervalMs: 200 });
    figures[`${name}HealthyMs`] = Date.now() - t0;
    const info = await docker.getContainer(`${project}-${name}`).inspect();
    assert.equal(info.Id, ids[name], 'the same container, restarted by its policy');
  }
  const st = await waitFor(async () => {
    const r = await ocm(['status', '--json'], { root });
    if (r.code !== 0) return undefined;
    const list = JSON.parse(r.stdout) as Array<{ name: string; state: string; health: string }>;
    return list.every((u) => u.state === 'running' && u.health === 'healthy') ? list : undefined;
  }, { what: 'ocm status: both running and healthy', timeoutMs: 120_000, intervalMs: 1_000 });
  figures.ocmStatusHealthyMs = Date.now() - t0;
  assert.deepEqual(st.map((u) => u.name), ['alice', 'bob']);

  // The daemon was never restarted: its status API and proxy recover on their own.
  await waitFor(async () => {
    const r = await status();
    return r.status === 200 && (r.json?.users ?? []).length === 2 && (r.json?.users ?? []).every((u) => u.state === 'running' && u.route === 'up') ? r : undefined;
  }, { what: 'daemon /api/status shows both running with routes up', timeoutMs: 120_000, intervalMs: 500 });
  figures.daemonStatusMs = Date.now() - t0;
  for (const name of ['alice', 'bob']) {
    await waitFor(async () => {
      const r = await httpJson<{ ok?: boolean }>(`http://127.0.0.1:${proxyPort}/healthz`, { headers: { host: `${name}.localhost` }, timeoutMs: 2_000 });
      return r.json?.ok === true;
    }, { what: `proxy routes ${name} again`, timeoutMs: 60_000, intervalMs: 250 });
  }
  figures.proxyRoutesMs = Date.now() - t0;
  // Whatever the restart did to Docker's chains, the daemon keeps the policy whole.
  figures.policyAfterRestart = await jumps();
  await waitFor(async () => { const j = await jumps(); return j.fwd && j.input; }, { what: 'the network policy whole again', timeoutMs: 60_000, intervalMs: 250 });
  figures.policyWholeMs = Date.now() - t0;
  const doctor = await ocm(['doctor', '--json'], { root });
  const findings = JSON.parse(doctor.stdout) as Array<{ check: string; ok: boolean }>;
  assert.ok(findings.some((f) => f.check === 'policy-rules' && f.ok), `doctor: ${doctor.stdout.slice(0, 400)}`);
  const up = await ocm(['up'], { root });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /alice +leave: unchanged and running/);
  assert.match(up.stdout, /bob +leave: unchanged and running/);
  record(t, 'faults.dockerd-restart', figures);
});
