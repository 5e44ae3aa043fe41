// DockerEngine against the real daemon: hardening as Docker reports it,
// lifecycle, logs/exec/stats, fail-fast health, and never touching foreign objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OcmError, type ErrorCode } from '@ocm/core';
import { DockerEngine, inspectHardening, waitHealthy } from '@ocm/engine';
import { FIXTURE_IMAGE, testLabels } from '../../../test/support/docker.js';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { dockerTestContext, removeAfter } from './docker-support.js';
import { makeUser, randomSubnet } from './factory.js';

const ctx = dockerTestContext();

const fast = { timeoutMs: 20_000, intervalMs: 250 };
const code = (expected: ErrorCode) => (error: unknown) => {
  assert.ok(error instanceof OcmError, `expected OcmError, got ${String(error)}`);
  assert.equal(error.code, expected, error.message);
  return true;
};

test('create -> healthy, and docker inspect shows the limits, loopback port and hardening', async (t) => {
  const { engine, run } = ctx;
  const alice = await makeUser(run, 'alice', { cpus: 0.5, memoryBytes: 256 * 1024 ** 2, pids: 128 });
  removeAfter(t, ctx.docker, alice);
  assert.equal((await engine.ensureNetwork(alice.network)).action, 'created');
  assert.equal((await engine.ensureNetwork(alice.network)).action, 'exists');
  const id = await engine.create(alice.container, alice.network);
  await engine.start(alice.container.name);
  await waitHealthy(engine, alice, fast);

  const info = await ctx.docker.getContainer(alice.container.name).inspect();
  assert.equal(info.Id, id);
  assert.deepEqual(inspectHardening(info, alice).filter((f) => !f.ok), []);
  assert.deepEqual(info.NetworkSettings.Ports['18789/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(alice.container.hostPort) }]);
  assert.equal(info.HostConfig.Memory, 256 * 1024 ** 2);
  assert.equal(info.HostConfig.NanoCpus, 500_000_000);
  assert.equal(info.HostConfig.PidsLimit, 128);
  assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
  assert.equal(info.HostConfig.Init, true);
  assert.equal(info.HostConfig.Privileged, false);
  assert.equal(info.Config.User, '1000:1000');
  // The secret came from the env file, and only into Env, never into labels.
  assert.ok(info.Config.Env.some((e) => e.startsWith('OPENCLAW_GATEWAY_TOKEN=')));
  assert.ok(!JSON.stringify(info.Config.Labels).includes('OPENCLAW_GATEWAY_TOKEN'));
  const endpoint = info.NetworkSettings.Networks[alice.network.name];
  assert.ok((endpoint?.Aliases as string[] | undefined)?.includes(alice.name));
  assert.ok(endpoint?.IPAddress.startsWith(alice.network.subnet.replace(/0\/24$/, '')));
  assert.equal(endpoint?.Gateway, alice.network.gateway);

  const listed = await engine.list({ labels: { 'ocm.root': run.root } });
  assert.deepEqual(listed.map((c) => [c.name, c.user, c.specHash, c.state]), [[alice.container.name, alice.name, alice.specHash, 'running']]);
});

test('logs, exec, stats, pause/unpause, stop/start/restart and remove', async (t) => {
  const { engine, run } = ctx;
  const bob = await makeUser(run, 'bob');
  removeAfter(t, ctx.docker, bob);
  const name = bob.container.name;
  await engine.ensureNetwork(bob.network);
  await engine.create(bob.container, bob.network);
  await engine.start(name);
  await waitHealthy(engine, bob, fast);

  assert.match(await engine.logs(name, { tail: 50 }), /listening|18789/i);
  const follow = await engine.logs(name, { follow: true, tail: 1 });
  const first = await new Promise<string>((resolve) => follow.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  follow.destroy();
  assert.ok(first.length > 0);

  assert.deepEqual(await engine.exec(name, ['node', 'openclaw.mjs', 'devices', 'list']), { exitCode: 0, stdout: '[]\n', stderr: '' });
  const failing = await engine.exec(name, ['node', '-e', 'process.stderr.write("nope");process.exit(3)']);
  assert.deepEqual(failing, { exitCode: 3, stdout: '', stderr: 'nope' });

  const stats = await engine.stats(name);
  assert.equal(stats.memoryLimitBytes, bob.container.limits.memoryBytes);
  assert.equal(stats.pidsLimit, 128);
  assert.ok(stats.pids > 0 && stats.memoryBytes > 0, JSON.stringify(stats));

  await engine.pause(name);
  assert.equal((await ctx.docker.getContainer(name).inspect()).State.Paused, true);
  await assert.rejects(waitHealthy(engine, bob, fast), code('OCM_E_UNHEALTHY'));
  await engine.unpause(name);
  await waitHealthy(engine, bob, fast);

  await engine.stop(name, { timeoutSeconds: 5 });
  await engine.stop(name, { timeoutSeconds: 5 }); // already stopped: no error
  assert.equal((await ctx.docker.getContainer(name).inspect()).State.Status, 'exited');
  await engine.start(name);
  await engine.restart(name, { timeoutSeconds: 5 });
  await waitHealthy(engine, bob, fast);
  await engine.remove(name);
  assert.equal(await engine.find(name), undefined);
  assert.equal(await engine.removeNetworkIfUnused(bob.network.name), true);
});

test('waitHealthy fails fast on a crashing container and shows its log', async (t) => {
  const { engine, run } = ctx;
  const carol = await makeUser(run, 'carol', { env: { OCM_FIXTURE_EXIT_IMMEDIATELY: '1' } });
  removeAfter(t, ctx.docker, carol);
  await engine.ensureNetwork(carol.network);
  await engine.create(carol.container, carol.network);
  await engine.start(carol.container.name);
  await assert.rejects(waitHealthy(engine, carol, { timeoutMs: 60_000, intervalMs: 250 }), (error: unknown) => {
    code('OCM_E_UNHEALTHY')(error);
    const e = error as OcmError;
    assert.match(e.message, new RegExp(carol.name));
    assert.match(e.message, /OCM_FIXTURE_EXIT_IMMEDIATELY/);
    assert.ok((e.details.logTail as string[]).some((l) => /simulated fatal startup error/.test(l)));
    assert.ok((e.details.logTail as string[]).length <= 20);
    // It gave up on the crash, not on the 60 s timeout.
    assert.match(String(e.details.reason), /container (exited|restarted|is restarting)/);
    return true;
  });
});

test('waitHealthy times out on a gateway that answers but never says ok', async (t) => {
  const { engine, run } = ctx;
  const dave = await makeUser(run, 'dave', { env: { OCM_FIXTURE_NEVER_HEALTHY: '1' } });
  removeAfter(t, ctx.docker, dave);
  await engine.ensureNetwork(dave.network);
  await engine.create(dave.container, dave.network);
  await engine.start(dave.container.name);
  const url = `http://127.0.0.1:${dave.container.hostPort}/healthz`;
  await waitFor(async () => (await httpJson(url)).status === 503, { what: 'fixture listening', timeoutMs: 20_000 });
  await assert.rejects(waitHealthy(engine, dave, { timeoutMs: 1_500, intervalMs: 250 }), (error: unknown) => {
    code('OCM_E_UNHEALTHY')(error);
    assert.match((error as OcmError).message, /within 1500 ms \(last answer: HTTP 503 without "ok": true\)/);
    assert.match(String((error as OcmError).details.lastProbe), /HTTP 503/);
    assert.match(String((error as OcmError).hint), /ocm doctor/);
    return true;
  });
});

test('foreign objects named like ocm-x are never touched and clash with OCM_E_NOT_OURS', async (t) => {
  const { engine, run, docker } = ctx;
  const mallory = await makeUser(run, 'mallory');
  removeAfter(t, ctx.docker, mallory);
  const name = mallory.container.name;
  // Test labels only: no ocm.managed, so to ocm this is someone else's container and network.
  const foreign = await docker.createContainer({ name, Image: FIXTURE_IMAGE, Labels: testLabels(), Cmd: ['node', '-e', 'setTimeout(()=>{},1e9)'] });
  await foreign.start();
  await docker.createNetwork({ Name: mallory.network.name, Labels: testLabels() });

  await assert.rejects(engine.ensureNetwork(mallory.network), code('OCM_E_NOT_OURS'));
  assert.equal(await engine.removeNetworkIfUnused(mallory.network.name), false);
  const other = { ...mallory.network, name: `${mallory.network.name}-2`, subnet: randomSubnet() };
  other.gateway = other.subnet.replace(/0\/24$/, '1');
  await engine.ensureNetwork(other);
  await assert.rejects(engine.create(mallory.container, other), code('OCM_E_NOT_OURS'));
  for (const call of [
    () => engine.stop(name),
    () => engine.remove(name),
    () => engine.restart(name),
    () => engine.pause(name),
    () => engine.exec(name, ['true']),
  ]) {
    await assert.rejects(call(), code('OCM_E_NOT_OURS'));
  }
  assert.equal((await engine.list()).some((c) => c.name === name), false);
  const after = await foreign.inspect();
  assert.equal(after.State.Running, true);
  assert.equal(after.RestartCount, 0);
});

test('a network with a changed subnet is recreated only when nothing is attached', async (t) => {
  const { engine, run } = ctx;
  const erin = await makeUser(run, 'erin');
  removeAfter(t, ctx.docker, erin);
  const first = await engine.ensureNetwork(erin.network);
  const moved = { ...erin.network, subnet: randomSubnet() };
  moved.gateway = moved.subnet.replace(/0\/24$/, '1');
  const second = await engine.ensureNetwork(moved);
  assert.equal(second.action, 'recreated');
  assert.notEqual(second.id, first.id);
  await engine.create(erin.container, moved);
  await engine.start(erin.container.name);
  await assert.rejects(engine.ensureNetwork(erin.network), (error: unknown) => {
    code('OCM_E_NETWORK_CONFLICT')(error);
    assert.match((error as OcmError).message, new RegExp(erin.container.name));
    return true;
  });
});

test('ensureNetwork: a second call joins one in flight, and a second process finds the network made meanwhile', async (t) => {
  const { engine, run } = ctx;
  const fay = await makeUser(run, 'fay');
  removeAfter(t, ctx.docker, fay);
  // The same engine: one creation, both callers get its result.
  const [a, b] = await Promise.all([engine.ensureNetwork(fay.network), engine.ensureNetwork(fay.network)]);
  assert.equal(a.action, 'created');
  assert.deepEqual(b, a);
  assert.equal((await engine.ensureNetwork(fay.network)).action, 'exists');

  // Two engines (two ocm processes) racing for one name: neither fails.
  const gus = await makeUser(run, 'gus');
  removeAfter(t, ctx.docker, gus);
  const other = new DockerEngine();
  const both = await Promise.all([engine.ensureNetwork(gus.network), other.ensureNetwork(gus.network)]);
  assert.deepEqual(both.map((r) => r.action).sort(), ['created', 'exists']);
  assert.equal(both[0].id, both[1].id);
  assert.equal((await ctx.docker.listNetworks({ filters: { name: [gus.network.name] } })).filter((n) => n.Name === gus.network.name).length, 1);
});

test('pulling with no registry is OCM_E_IMAGE_MISSING naming the image', async () => {
  const image = 'registry.invalid/ocm/never:1';
  assert.equal(await ctx.engine.imageExists(image), false);
  await assert.rejects(ctx.engine.pullImage(image), (error: unknown) => {
    code('OCM_E_IMAGE_MISSING')(error);
    assert.match((error as OcmError).message, /registry\.invalid\/ocm\/never:1/);
    return true;
  });
  assert.equal(await ctx.engine.imageExists(FIXTURE_IMAGE), true);
});

test('a daemon that does not answer is OCM_E_DOCKER_UNREACHABLE', async () => {
  const nowhere = new DockerEngine({ socketPath: `${ctx.run.root}/no-docker.sock` });
  await assert.rejects(nowhere.ping(), code('OCM_E_DOCKER_UNREACHABLE'));
  await assert.rejects(nowhere.list(), code('OCM_E_DOCKER_UNREACHABLE'));
  await assert.rejects(nowhere.imageExists(FIXTURE_IMAGE), code('OCM_E_DOCKER_UNREACHABLE'));
});
