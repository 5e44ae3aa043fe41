// Reconcile against the real daemon: unchanged containers keep running
// untouched, changed ones are recreated, removed users lose only their objects.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { LABEL_ROOT, type UserDeployment } from '@ocm/core';
import { applyReconcile, planReconcile, type ReconcileEvent } from '@ocm/engine';
import { httpJson } from '../../../test/support/wait.js';
import { dockerTestContext, removeAfter } from './docker-support.js';
import { makeUser, withHash } from './factory.js';

const ctx = dockerTestContext();
const health = { timeoutMs: 20_000, intervalMs: 250 };

async function reconcile(users: UserDeployment[]) {
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.run.root } });
  const actions = planReconcile(users, actual, { root: ctx.run.root });
  const events: ReconcileEvent[] = [];
  const outcomes = await applyReconcile(ctx.engine, actions, { concurrency: 4, health, onEvent: (e) => events.push(e) });
  for (const o of outcomes) assert.ok(o.ok, `${o.action.kind} ${o.action.user}: ${o.error?.message}`);
  return { summary: actions.map((a) => `${a.kind}:${a.user.replace(`${ctx.run.id}-`, '')}`), outcomes, events };
}

async function identity(user: UserDeployment): Promise<string> {
  const info = await ctx.docker.getContainer(user.container.name).inspect();
  return `${info.Id}@${info.State.StartedAt}`;
}

test('reconcile creates, leaves unchanged containers alone, recreates a changed one and removes a dropped user', async () => {
  const alice = await makeUser(ctx.run, 'alice');
  const bob = await makeUser(ctx.run, 'bob');
  const carol = await makeUser(ctx.run, 'carol');

  const first = await reconcile([alice, bob, carol]);
  assert.deepEqual(first.summary, ['create:alice', 'create:bob', 'create:carol']);
  assert.deepEqual(first.events.filter((e) => e.status === 'done').length, 3);
  const before = { alice: await identity(alice), bob: await identity(bob), carol: await identity(carol) };

  const again = await reconcile([alice, bob, carol]);
  assert.deepEqual(again.summary, ['leave:alice', 'leave:bob', 'leave:carol']);
  assert.deepEqual({ alice: await identity(alice), bob: await identity(bob), carol: await identity(carol) }, before);

  const bigger = withHash({ ...bob, container: { ...bob.container, limits: { ...bob.container.limits, memoryBytes: 300 * 1024 ** 2 } } });
  const changed = await reconcile([alice, bigger, carol]);
  assert.deepEqual(changed.summary, ['leave:alice', 'recreate:bob', 'leave:carol']);
  assert.equal(await identity(alice), before.alice);
  assert.equal(await identity(carol), before.carol);
  assert.notEqual(await identity(bigger), before.bob);
  assert.equal((await ctx.docker.getContainer(bob.container.name).inspect()).HostConfig.Memory, 300 * 1024 ** 2);
  assert.equal((await httpJson<{ ok: boolean }>(`http://127.0.0.1:${bob.container.hostPort}/healthz`)).json?.ok, true);

  const dropped = await reconcile([alice, bigger]);
  assert.deepEqual(dropped.summary, ['leave:alice', 'leave:bob', 'remove:carol']);
  assert.deepEqual(dropped.outcomes.find((o) => o.action.kind === 'remove')?.removedNetworks, [carol.network.name]);
  assert.equal(await ctx.engine.find(carol.container.name), undefined);
  assert.equal((await ctx.docker.listNetworks({ filters: { name: [carol.network.name] } })).some((n) => n.Name === carol.network.name), false);
  // The engine never touches user data: carol's state and env file are still there.
  assert.ok(existsSync(carol.container.mounts[0]!.source));
  assert.ok(existsSync(carol.container.envFile));
  assert.equal(await identity(alice), before.alice);
  assert.equal((await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.run.root } })).length, 2);
});

test('disabling a user stops their container; enabling starts the same one again', async () => {
  const dave = await makeUser(ctx.run, 'dave');
  await reconcile([dave]);
  const id = (await ctx.docker.getContainer(dave.container.name).inspect()).Id;
  assert.deepEqual((await reconcile([{ ...dave, enabled: false }])).summary, ['stop:dave']);
  assert.equal((await ctx.docker.getContainer(dave.container.name).inspect()).State.Running, false);
  assert.deepEqual((await reconcile([{ ...dave, enabled: false }])).summary, ['leave:dave']);
  assert.deepEqual((await reconcile([dave])).summary, ['start:dave']);
  assert.equal((await ctx.docker.getContainer(dave.container.name).inspect()).Id, id);
});

test('a failing user does not stop the others, and the outcome carries the reason', async () => {
  const erin = await makeUser(ctx.run, 'erin');
  const frank = await makeUser(ctx.run, 'frank', { env: { OCM_FIXTURE_EXIT_IMMEDIATELY: '1' } });
  const actions = planReconcile([erin, frank], [], { root: ctx.run.root });
  const outcomes = await applyReconcile(ctx.engine, actions, { health });
  assert.deepEqual(outcomes.map((o) => [o.action.user.replace(`${ctx.run.id}-`, ''), o.ok, o.error?.code]), [
    ['erin', true, undefined],
    ['frank', false, 'OCM_E_UNHEALTHY'],
  ]);
});

async function names(user: UserDeployment): Promise<string[]> {
  const all = await ctx.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`ocm.user=${user.name}`] }) });
  return all.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
}

test('make before break: a change Docker refuses, or one the gateway cannot start with, leaves the old container running', async (t) => {
  const gina = await makeUser(ctx.run, 'gina');
  removeAfter(t, ctx.docker, gina);
  await reconcile([gina]);
  const before = await ctx.docker.getContainer(gina.container.name).inspect();
  const { NCPU } = await ctx.docker.info() as { NCPU: number };

  // Docker refuses the new container outright (more CPUs than the host has).
  const greedy = withHash({ ...gina, container: { ...gina.container, limits: { ...gina.container.limits, cpus: NCPU + 1 } } });
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.run.root } });
  const actions = planReconcile([greedy], actual, { root: ctx.run.root });
  assert.deepEqual(actions.map((a) => a.kind), ['recreate']);
  const [refused] = await applyReconcile(ctx.engine, actions, { health });
  assert.equal(refused?.ok, false);
  assert.equal(refused?.error?.code, 'OCM_E_CHANGE_REFUSED');
  assert.equal(refused?.error?.details['kept'], true);
  assert.match(refused?.error?.message ?? '', /^Docker refused the new container \(.*CPU.*\); .*gina runs on with the previous settings$/);
  let now = await ctx.docker.getContainer(gina.container.name).inspect();
  assert.equal(now.Id, before.Id, 'the same container');
  assert.equal(now.State.StartedAt, before.State.StartedAt, 'never stopped');
  assert.deepEqual(await names(gina), [gina.container.name], 'nothing left beside it');

  // Docker accepts it, but the gateway in it never answers: the old one is put back and started.
  const broken = withHash({ ...gina, container: { ...gina.container, env: { ...gina.container.env, OCM_FIXTURE_EXIT_IMMEDIATELY: '1' } } });
  const [failed] = await applyReconcile(ctx.engine, planReconcile([broken], await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.run.root } }), { root: ctx.run.root }), { health });
  assert.equal(failed?.error?.code, 'OCM_E_CHANGE_REFUSED');
  assert.equal(failed?.error?.details['kept'], true);
  assert.match(failed?.error?.message ?? '', /^t\w+-gina's gateway did not come up with the change \(gateway of .* is not healthy: container (exited|is restarting|restarted)/);
  now = await ctx.docker.getContainer(gina.container.name).inspect();
  assert.equal(now.Id, before.Id, 'the old container is back under its name');
  assert.equal(now.State.Running, true);
  assert.equal((await httpJson<{ ok: boolean }>(`http://127.0.0.1:${gina.container.hostPort}/healthz`)).json?.ok, true);
  assert.deepEqual(await names(gina), [gina.container.name]);
  // The old spec is still what runs: the next reconcile of the old spec leaves it alone.
  assert.deepEqual((await reconcile([gina])).summary, ['leave:gina']);
});

test('leftovers of an interrupted swap are removed before the user is started, and do not count as removed users', async (t) => {
  const hank = await makeUser(ctx.run, 'hank');
  removeAfter(t, ctx.docker, hank);
  await reconcile([hank]);
  // As if a swap was killed after the old container was renamed and the new one created.
  await ctx.engine.stop(hank.container.name, { timeoutSeconds: 5 });
  await ctx.engine.rename(hank.container.name, `${hank.container.name}.prev`);
  await ctx.engine.create({ ...hank.container, name: `${hank.container.name}.next` }, hank.network);
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.run.root } });
  const actions = planReconcile([hank], actual, { root: ctx.run.root });
  assert.deepEqual(actions.map((a) => [a.kind, a.leftover === true, 'actual' in a && a.actual ? a.actual.name.replace(hank.container.name, '') : '']).sort(), [
    ['create', false, ''], ['remove', true, '.next'], ['remove', true, '.prev'],
  ]);
  const outcomes = await applyReconcile(ctx.engine, actions, { health });
  for (const o of outcomes) assert.ok(o.ok, o.error?.message);
  assert.deepEqual(await names(hank), [hank.container.name]);
  assert.equal((await ctx.docker.getContainer(hank.container.name).inspect()).State.Running, true);
});
