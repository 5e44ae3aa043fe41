// A two-node swarm on one machine (test/support/swarm-worker.ts): a second
// dockerd in a network namespace joins the main engine's swarm as a worker; a
// service pinned to it answers, over an attachable overlay, a relay container
// on the manager that the host reaches on a 127.0.0.1 port. So the overlay
// carries traffic from manager to worker and back (large bodies too: MTU).
//
// Needs root; the main engine is made a swarm manager for the test when it is
// not one (and left again at the end). The overlay, service and relay
// carry ocm.test=1 and this run's ocm.test.run, and are removed even when the
// test fails; leftovers of dead runs with those names are removed first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FIXTURE_IMAGE, GATEWAY_PORT, RUN_ID, RUN_LABEL, TEST_LABEL, ensureFixtureImage, freePort } from '../support/docker.js';
import { ensureSwarm } from '../support/swarm.js';
import { cleanupSwarmWorkers, startSwarmWorker, type SwarmWorker } from '../support/swarm-worker.js';
import { httpJson, waitFor, waitForHealthy } from '../support/wait.js';

const NETWORK = 'ocmt-xnet';
const SUBNET = '10.238.5.0/28';
const SERVICE = 'ocmt_svc';
const RELAY = `ocmt_relay_${RUN_ID}`;
const RELAY_IP = '10.238.5.14';
const LABELS = [`${TEST_LABEL}=1`, `${RUN_LABEL}=${RUN_ID}`];

// Pipes each connection to the service's task (dnsrr: its name resolves to the task's address).
const RELAY_JS = `const net = require('net');
net.createServer((c) => {
  const u = net.connect(${GATEWAY_PORT}, '${SERVICE}');
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
  c.pipe(u); u.pipe(c);
}).listen(${GATEWAY_PORT});`;

function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, a second dockerd)';
  try {
    await docker(['info', '--format', '{{.ID}}'], 10_000);
    return false;
  } catch (err) {
    return `Docker Engine not reachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** RUN_ID (test/support/docker.ts) is the pid in base 36, then 6 hex digits. */
function runGone(run: string): boolean {
  const pid = Number.parseInt(run.slice(0, -6), 36);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code !== 'EPERM';
  }
}

/** Removes the service and network of these fixed names when a dead test run left them; refuses others'. */
async function removeDeadRunsObjects(): Promise<void> {
  for (const [kind, name] of [['service', SERVICE], ['network', NETWORK]] as const) {
    let labels: Record<string, string> | null;
    try {
      labels = JSON.parse(await docker([kind, 'inspect', name, '--format', kind === 'service' ? '{{json .Spec.Labels}}' : '{{json .Labels}}'])) as Record<string, string> | null;
    } catch {
      continue; // none
    }
    const run = labels?.[RUN_LABEL];
    if (labels?.[TEST_LABEL] !== '1' || run === undefined || !runGone(run)) {
      throw new Error(`a ${kind} named ${name} exists and is not a leftover of a finished test run (labels ${JSON.stringify(labels)})`);
    }
    await docker([kind, 'rm', name]);
  }
}

const skip = await skipReason();

test('a second dockerd in a netns joins the swarm as a worker; its service answers the manager over the overlay', { skip, timeout: 600_000 }, async (t) => {
  await ensureSwarm(t);
  await ensureFixtureImage();
  await cleanupSwarmWorkers();
  await removeDeadRunsObjects();

  // Undone in reverse order, each step even when an earlier one failed.
  const undo: Array<[string, () => Promise<unknown>]> = [];
  t.after(async () => {
    const failed: string[] = [];
    for (const [what, fn] of undo.reverse()) {
      try {
        await fn();
      } catch (err) {
        failed.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (failed.length > 0) throw new Error(`cleanup failed:\n${failed.join('\n')}`);
  });

  const worker: SwarmWorker = await startSwarmWorker({ name: 'ocmt-w1', images: [FIXTURE_IMAGE] });
  undo.push(['stop the worker', () => worker.stop()]);
  t.diagnostic(`worker started in ${worker.timings.totalMs} ms: ${JSON.stringify(worker.timings)}`);

  const managerHost = await docker(['info', '--format', '{{.Name}}']);
  assert.equal(worker.hostname, 'ocmt-w1');
  assert.notEqual(worker.hostname, managerHost);
  const nodes = await docker(['node', 'ls', '--format', '{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}']);
  assert.ok(nodes.split('\n').map((line) => line.trim()).includes(`${worker.nodeId} ocmt-w1 Ready`), nodes);
  assert.equal(await docker(['-H', worker.dockerHost, 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Name}}']), 'active false ocmt-w1');
  assert.notEqual(await docker(['-H', worker.dockerHost, 'image', 'inspect', FIXTURE_IMAGE, '--format', '{{.Id}}']), '');

  const labels = LABELS.flatMap((l) => ['--label', l]);
  await docker(['network', 'create', '--driver', 'overlay', '--attachable', '--subnet', SUBNET, ...labels, NETWORK]);
  undo.push(['remove the network', () => waitFor(() => docker(['network', 'rm', NETWORK]).then(() => true), { timeoutMs: 60_000, intervalMs: 500, what: `docker network rm ${NETWORK}` })]);

  await docker([
    'service', 'create', '--detach', '--no-resolve-image', '--name', SERVICE, ...labels,
    '--replicas', '1', '--endpoint-mode', 'dnsrr', '--constraint', `node.hostname==${worker.hostname}`,
    '--network', NETWORK, '--env', 'OPENCLAW_GATEWAY_TOKEN=anything', '--stop-grace-period', '2s', FIXTURE_IMAGE,
  ]);
  undo.push(['remove the service', () => docker(['service', 'rm', SERVICE])]);

  // The task runs on the worker, and there only.
  const started = Date.now();
  const task = await waitFor(async () => {
    const ids = (await docker(['service', 'ps', SERVICE, '-q', '--no-trunc', '--filter', 'desired-state=running'])).split('\n').filter(Boolean);
    if (ids.length !== 1) return undefined;
    const task = JSON.parse(await docker(['inspect', '--type', 'task', ids[0]!, '--format', '{{json .}}'])) as { NodeID?: string; Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string } } };
    const state = task.Status?.State;
    if (state === 'failed' || state === 'rejected') throw new Error(`task ${ids[0]} ${state}: ${task.Status?.Err ?? ''}`);
    return state === 'running' ? { nodeId: task.NodeID, container: task.Status?.ContainerStatus?.ContainerID ?? '?' } : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250, what: `${SERVICE}'s task running` });
  const taskMs = Date.now() - started;
  assert.equal(task.nodeId, worker.nodeId);
  assert.match(await docker(['-H', worker.dockerHost, 'ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`]), new RegExp(`^${task.container}$`));
  assert.equal(await docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`]), '');

  // On the manager: a relay on the overlay, published on loopback.
  const port = await freePort();
  await docker([
    'run', '-d', '--name', RELAY, ...labels, '--user', '1000:1000', '--network', NETWORK, '--ip', RELAY_IP,
    '-p', `127.0.0.1:${port}:${GATEWAY_PORT}`, FIXTURE_IMAGE, 'node', '-e', RELAY_JS,
  ]);
  undo.push(['remove the relay', () => docker(['rm', '-f', RELAY])]);

  const healthStarted = Date.now();
  const health = await waitForHealthy(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 60_000, what: `/healthz through the relay (127.0.0.1:${port}) from the worker's task` });
  const healthMs = Date.now() - healthStarted;
  assert.equal(health.status, 200);
  assert.equal(health.json?.ok, true);

  // The task saw the relay's overlay address: the request crossed the overlay from the manager.
  const echo = await httpJson<{ remoteAddress?: string }>(`http://127.0.0.1:${port}/api/echo-headers`);
  assert.equal(echo.status, 200, echo.text);
  assert.equal(echo.json?.remoteAddress?.replace(/^::ffff:/, ''), RELAY_IP);

  // Full-size frames both ways (an MTU mismatch would stall here, not fail small requests).
  const body = crypto.randomBytes(2 * 1024 * 1024);
  const back = await fetch(`http://127.0.0.1:${port}/api/echo`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(30_000) });
  assert.equal(back.status, 200);
  const got = Buffer.from(await back.arrayBuffer());
  assert.equal(got.length, body.length);
  assert.ok(got.equals(body), 'the 2 MiB echo came back changed');

  const rss = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  t.diagnostic(`task running ${taskMs} ms after service create; relay healthy after ${healthMs} ms; worker dockerd RSS ${rss(worker.pid)} MiB`);
});
