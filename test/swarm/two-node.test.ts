// Two nodes on one machine (test/support/swarm-worker.ts: a second dockerd in
// a network namespace, joined as a worker) and the real gateway: alice on the
// manager, bob placed on the worker by headroom; bob served through the
// manager's proxy over his overlay, backed up (stopped for it: his container
// cannot be frozen from the manager), moved to the manager and back, and a
// move the target refuses (his image is not there) leaves him running where
// he was. Both engines see one filesystem here, which is what
// settings.swarm.sharedState states (on real machines: NFS at the same path).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { DOMAIN, configure, startDaemon } from '../support/control-ui.js';
import { GATEWAY_IMAGE, RUN_ID, freePort, getDocker } from '../support/docker.js';
import { ensureSwarm, managerHostname } from '../support/swarm.js';
import { startSwarmWorker } from '../support/swarm-worker.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const docker = getDocker();
const slow = { timeoutMs: 600_000 };

/** The host name of the node the service's running task is on. */
async function nodeOf(service: string): Promise<string | undefined> {
  const tasks = (await docker.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as Array<{ NodeID?: string; Status?: { State?: string } }>;
  const task = tasks.find((t) => t.Status?.State === 'running');
  if (task?.NodeID === undefined) return undefined;
  const node = (await docker.getNode(task.NodeID).inspect()) as { Description?: { Hostname?: string } };
  return node.Description?.Hostname;
}

/** GET through the daemon's proxy with the user's Host header: status and body. */
function viaProxy(port: number, user: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `${user}.${DOMAIN}:${port}`, accept: 'text/html' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function servedThroughProxy(port: number, user: string): Promise<void> {
  const health = await viaProxy(port, user, '/healthz');
  assert.equal(health.status, 200, health.body);
  const page = await viaProxy(port, user, '/');
  assert.equal(page.status, 200, page.body.slice(0, 200));
  assert.match(page.body, /data-openclaw-control-ui/, 'the Control UI, not just a health answer');
}

const skip = process.getuid?.() === 0 ? false : 'needs root (a network namespace and a second dockerd)';

describe('the real gateway on two swarm nodes', { skip }, () => {
  test('place, serve across nodes, back up, move there and back, a refused move', { timeout: 1_800_000 }, async (t) => {
    await ensureSwarm(t);
    const manager = await managerHostname();
    const worker = await startSwarmWorker({ images: [GATEWAY_IMAGE] });
    t.after(() => worker.stop());
    const target = await testRoot(t, { real: true, engine: 'swarm' });
    const { root, project, proxyPort } = target;
    const adminPort = await freePort();
    configure(target, (text) => text
      .replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${adminPort}`)
      .replace('  engine: swarm\n', '  engine: swarm\n  swarm:\n    sharedState: true\n'));
    const bob = `${project}_bob`;

    await t.test('alice on the manager; bob goes to the worker, the node with more room', async () => {
      let r = await ocm(['add', 'alice', '--node', manager], { root, ...slow });
      assert.equal(r.code, 0, r.stderr);
      r = await ocm(['add', 'bob'], { root, ...slow });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`\\(node ${worker.hostname}\\)`));
      assert.equal(await nodeOf(bob), worker.hostname);
      assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`name: bob\\n(?:.*\\n)*? {4}node: ${worker.hostname}`));
      const containers = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${bob}`] } });
      assert.deepEqual(containers, [], 'bob\'s container is not on the manager');
      const status = await ocm(['status'], { root, ...slow });
      assert.match(status.stdout, new RegExp(`^bob +running +${worker.hostname} +healthy`, 'm'), status.stdout);
      assert.match(status.stdout, new RegExp(`^alice +running +${manager} +healthy`, 'm'), status.stdout);
    });

    await t.test('bob is served through the manager\'s proxy, over his overlay, from the worker', async () => {
      await startDaemon(target, 'bob');
      await servedThroughProxy(proxyPort, 'bob');
      await servedThroughProxy(proxyPort, 'alice');
      // His log comes from the worker, through the swarm.
      const logs = await ocm(['logs', 'bob', '--tail', '50'], { root });
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /gateway/i, logs.stdout.slice(0, 500));
    });

    await t.test('a backup of bob: stopped for it (he cannot be frozen from here), started again', async () => {
      const r = await ocm(['backup', 'bob'], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const archive = /\S+\.tar\.gz/.exec(r.stdout)?.[0] ?? '';
      const listed = await run('tar', ['-tzf', archive], { maxBuffer: 64 * 1024 * 1024 });
      assert.ok(listed.stdout.includes('state/openclaw.json'));
      // Started again by the backup, and up within the health timeout, where he was.
      await waitFor(async () => (await nodeOf(bob)) === worker.hostname && (await viaProxy(proxyPort, 'bob', '/healthz').catch(() => ({ status: 0 }))).status === 200, { what: 'bob running again on the worker', timeoutMs: 240_000 });
      await servedThroughProxy(proxyPort, 'bob');
    });

    await t.test('move bob to the manager and back', async () => {
      let r = await ocm(['move', 'bob', '--to', manager], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`moved bob from ${worker.hostname} to ${manager}`));
      assert.equal(await nodeOf(bob), manager);
      await servedThroughProxy(proxyPort, 'bob');
      r = await ocm(['move', 'bob', '--to', worker.hostname], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.equal(await nodeOf(bob), worker.hostname);
      await servedThroughProxy(proxyPort, 'bob');
      r = await ocm(['move', 'bob', '--to', worker.hostname], { root });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /bob is already on/);
    });

    await t.test('a move the target refuses leaves bob running where he was', async () => {
      // An image only the manager has: the worker cannot start bob with it.
      const only = `ocm-openclaw:manager-only-${RUN_ID}`;
      await docker.getImage(GATEWAY_IMAGE).tag({ repo: 'ocm-openclaw', tag: `manager-only-${RUN_ID}` });
      t.after(async () => void (await docker.getImage(only).remove().catch(() => undefined)));
      let r = await ocm(['move', 'bob', '--to', manager], { root, ...slow });
      assert.equal(r.code, 0, r.stderr);
      r = await ocm(['upgrade', 'bob', '--image', only], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const before = readFileSync(`${root}/ocm.yaml`, 'utf8');
      r = await ocm(['move', 'bob', '--to', worker.hostname], { root, ...slow });
      assert.notEqual(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /OCM_E_CHANGE_REFUSED|runs on with the previous settings/);
      assert.equal(await nodeOf(bob), manager, 'bob runs where he was');
      assert.equal(readFileSync(`${root}/ocm.yaml`, 'utf8'), before, 'ocm.yaml says so too');
      await servedThroughProxy(proxyPort, 'bob');
    });
  });
});
