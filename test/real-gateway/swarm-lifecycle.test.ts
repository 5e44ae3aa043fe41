// The real gateway on a single-node swarm (settings.engine: swarm), the whole
// life of a user: added as a service pinned to her node, no port published
// on any node, her relay on the manager; served through the daemon's proxy
// to a browser that pairs and connects; kept apart from bob by her own
// overlay; the rendered stack file deployed by `docker stack deploy` gives
// the very same services (no task restarted); backed up and restored while
// running; upgraded to another image (and rolled back from one whose gateway
// will not start); removed with her service, relay and
// overlay. The swarm is made for the test and left at its end.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { detectLocalClientAddress } from '@ocm/store';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { hasChromium, launchBrowser } from '../support/browser.js';
import { DOMAIN, browseAndPair, configure, controlUiServed, startDaemon } from '../support/control-ui.js';
import { BROKEN_GATEWAY, GATEWAY_IMAGE, RUN_ID, buildGatewayVariant, freePort, getDocker } from '../support/docker.js';
import { ensureSwarm, managerHostname } from '../support/swarm.js';

const run = promisify(execFile);
const docker = getDocker();
const slow = { timeoutMs: 600_000 };

interface RawService {
  ID: string;
  Version: { Index: number };
  Spec: {
    Labels?: Record<string, string>;
    TaskTemplate: { ContainerSpec: { Image: string }; Placement?: { Constraints?: string[] } };
    EndpointSpec?: { Ports?: unknown[] };
  };
}

/** Docker's own JSON of a service, as the API gives it (not the CLI's rendering). */
async function rawService(name: string): Promise<RawService> {
  return (await docker.getService(name).inspect()) as RawService;
}

/** The ids of the service's tasks that are meant to run. */
async function runningTasks(name: string): Promise<string[]> {
  const tasks = (await docker.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as Array<{ ID: string }>;
  return tasks.map((t) => t.ID).sort();
}

/** The container of the service's running task on this node. */
async function taskContainer(name: string): Promise<string> {
  const tasks = (await docker.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as Array<{ Status?: { State?: string; ContainerStatus?: { ContainerID?: string } } }>;
  const id = tasks.find((t) => t.Status?.State === 'running')?.Status?.ContainerStatus?.ContainerID;
  assert.ok(id !== undefined, `${name} has a running task`);
  return id;
}

/** Runs node inside a container: the exit code and output. */
async function nodeIn(container: string, script: string): Promise<{ code: number; out: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, out: Buffer.concat(chunks).toString('utf8') };
}

describe('the real gateway on a single-node swarm', { skip: hasChromium ? false : 'no Chromium' }, () => {
  test('add, browse and pair, isolation, stack deploy, backup, restore, upgrade, remove', { timeout: 1_800_000 }, async (t) => {
    await ensureSwarm(t);
    const node = await managerHostname();
    const target = await testRoot(t, { real: true, engine: 'swarm' });
    const { root, project, portBase, proxyPort } = target;
    const adminPort = await freePort();
    configure(target, (text) => text.replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${adminPort}`));
    const alice = `${project}_alice`;
    const bob = `${project}_bob`;

    await t.test('add: a service per user, pinned to her node, nothing published; her relay on 127.0.0.1', async () => {
      const a = await ocm(['add', 'alice'], { root, ...slow });
      const b = await ocm(['add', 'bob', '--node', node], { root, ...slow });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.match(a.stderr, new RegExp(`added alice on 127\\.0\\.0\\.1:${portBase} \\(node ${node}\\)`));
      const service = await rawService(alice);
      assert.deepEqual(service.Spec.EndpointSpec?.Ports ?? [], [], 'no port published on any node');
      assert.deepEqual(service.Spec.TaskTemplate.Placement?.Constraints, [`node.hostname == ${node}`]);
      const relay = await docker.getContainer(`${alice}.relay`).inspect();
      assert.deepEqual(relay.HostConfig.PortBindings, { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: String(portBase) }] });
      assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`name: alice\\n(?:.*\\n)*? {4}node: ${node}`), 'ocm.yaml records her node');
      await controlUiServed(portBase, `alice.${DOMAIN}`);
      const status = await ocm(['status'], { root, ...slow });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^NAME +STATE +NODE +HEALTH/m);
      assert.match(status.stdout, new RegExp(`^alice +running +${node} +healthy`, 'm'));
    });

    await t.test('doctor: hardening holds; what the engine cannot enforce for a service is a warning that says so', async () => {
      const r = await ocm(['doctor', '--json'], { root, ...slow });
      const findings = JSON.parse(r.stdout) as Array<{ scope: string; check: string; ok: boolean; warn?: boolean; detail: string }>;
      const mine = findings.filter((f) => f.scope === 'alice');
      assert.deepEqual(mine.filter((f) => !f.ok).map((f) => `${f.check}: ${f.detail}`), []);
      for (const check of ['node', 'no-published-port', 'relay-published', 'cap-drop-all', 'init', 'pids-limit', 'memory-limit', 'cpu-limit', 'user', 'placement', 'usable']) {
        assert.ok(mine.some((f) => f.check === check && f.ok), `${check} checked and passed`);
      }
      const nnp = mine.find((f) => f.check === 'no-new-privileges');
      assert.ok(nnp?.warn === true && /^not enforced: Docker Engine \S+ \(API [\d.]+\)/.test(nnp.detail), JSON.stringify(nnp));
      assert.ok(findings.some((f) => f.scope === 'network' && f.check === 'policy' && f.warn === true && /not enforced on a swarm/.test(f.detail)));
    });

    await t.test('her overlay keeps bob out of reach', async () => {
      const bobTask = await taskContainer(bob);
      const bobAddress = Object.values((await docker.getContainer(bobTask).inspect()).NetworkSettings.Networks)[0]?.IPAddress;
      assert.ok(bobAddress, 'bob has an overlay address');
      const aliceTask = await taskContainer(alice);
      // A TCP connect proves nothing (a middlebox may accept any SYN): only a gateway's own answer counts.
      const healthz = (address: string) => `fetch('http://${address}:18789/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>r.text()).then(t=>{console.log(t);process.exit(/"ok":true/.test(t)?0:4)},e=>{console.log(String(e.cause?.code??e.name));process.exit(3)})`;
      const own = await nodeIn(aliceTask, healthz('127.0.0.1'));
      assert.equal(own.code, 0, `the probe reaches her own gateway: ${own.out}`);
      const probe = await nodeIn(aliceTask, healthz(bobAddress));
      assert.notEqual(probe.code, 0, `alice reached bob's gateway at ${bobAddress}: ${probe.out}`);
      const dns = await nodeIn(aliceTask, `require('dns').lookup(${JSON.stringify(bob)},(e,a)=>{console.log(e?e.code:a);process.exit(e?3:0)})`);
      assert.notEqual(dns.code, 0, `bob's service name resolves on alice's network: ${dns.out}`);
    });

    await t.test('`docker stack deploy` of the rendered file gives the very same services: no task restarted', async () => {
      const before = await Promise.all([alice, bob].map(rawService));
      const tasks = await Promise.all([alice, bob].map(runningTasks));
      const deployed = await run('docker', ['stack', 'deploy', '-c', `${root}/docker-compose.yml`, project], { cwd: root, timeout: 120_000 });
      assert.doesNotMatch(deployed.stdout, /Creating service/, 'no new service');
      const after = await Promise.all([alice, bob].map(rawService));
      for (const [i, service] of after.entries()) assert.deepEqual(service.Spec, before[i]?.Spec, `${service.ID}: the stack file's spec is ocm's`);
      // Give swarm time to act on a difference, if there were one.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.deepEqual(await Promise.all([alice, bob].map(runningTasks)), tasks);
      const up = await ocm(['up'], { root, ...slow });
      assert.equal(up.code, 0, up.stderr);
      assert.match(`${up.stdout}${up.stderr}`, /alice +leave: unchanged and running/);
    });

    await t.test('browse, pair and connect through the daemon\'s proxy and her relay', async () => {
      const local = detectLocalClientAddress();
      assert.ok(local !== undefined && !local.startsWith('127.'), 'this host has a non-loopback address');
      await startDaemon(target);
      const browser = await launchBrowser(t, { hostResolverRules: `MAP *.${DOMAIN} 127.0.0.1` });
      await browseAndPair(browser, `http://alice.${DOMAIN}:${proxyPort}`, root, 'alice', local);
    });

    await t.test('backup, and restore while she runs', async () => {
      let r = await ocm(['backup', 'alice'], { root, ...slow });
      assert.equal(r.code, 0, r.stderr);
      const archive = /\S+\.tar\.gz/.exec(r.stdout)?.[0] ?? '';
      const listed = await run('tar', ['-tzf', archive], { maxBuffer: 64 * 1024 * 1024 });
      assert.ok(listed.stdout.includes('state/openclaw.json'), 'the config travels');
      const tasksBefore = await runningTasks(alice);
      r = await ocm(['restore', 'alice', '--yes'], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /alice was down \d+\.\d s/);
      assert.notDeepEqual(await runningTasks(alice), tasksBefore, 'a new task over the restored state');
      await controlUiServed(portBase, `alice.${DOMAIN}`);
      // She is still paired: her devices came back with her state.
      const devices = await ocm(['devices', 'alice', '--json'], { root });
      assert.ok((JSON.parse(devices.stdout) as { paired: unknown[] }).paired.length >= 1, devices.stdout);
    });

    await t.test('upgrade to another image of the real gateway; one that will not start is rolled back', async () => {
      const next = `ocm-openclaw:swarm-${RUN_ID}`;
      await docker.getImage(GATEWAY_IMAGE).tag({ repo: 'ocm-openclaw', tag: `swarm-${RUN_ID}` });
      t.after(async () => void (await docker.getImage(next).remove().catch(() => undefined)));
      const r = await ocm(['upgrade', 'alice', '--image', next], { root, ...slow });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^alice +upgraded /m);
      assert.equal((await rawService(alice)).Spec.TaskTemplate.ContainerSpec.Image, next);
      await controlUiServed(portBase, `alice.${DOMAIN}`);

      // An image whose gateway refuses to start: rolled back to the one that worked.
      const broken = `ocm-test-openclaw-broken-swarm-${RUN_ID}:1`;
      buildGatewayVariant(broken, BROKEN_GATEWAY);
      t.after(async () => void (await docker.getImage(broken).remove({ force: true }).catch(() => undefined)));
      const failed = await ocm(['upgrade', 'alice', '--image', broken], { root, ...slow });
      assert.equal(failed.code, 1, `${failed.stdout}${failed.stderr}`);
      assert.match(failed.stdout, /^alice +rolled-back /m);
      assert.equal((await rawService(alice)).Spec.TaskTemplate.ContainerSpec.Image, next, 'back on the image that worked');
      assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`image: ${next}`));
      await controlUiServed(portBase, `alice.${DOMAIN}`);
    });

    await t.test('remove: her service, relay and overlay go; her state stays', async () => {
      const r = await ocm(['remove', 'bob'], { root, ...slow });
      assert.equal(r.code, 0, r.stderr);
      await assert.rejects(docker.getService(bob).inspect(), /no such service|404/i);
      await assert.rejects(docker.getContainer(`${bob}.relay`).inspect(), /no such container|404/i);
      const networks = await docker.listNetworks({ filters: { name: [`${project}-bob`] } });
      assert.deepEqual(networks.filter((n) => n.Name === `${project}-bob`), []);
    });
  });
});
