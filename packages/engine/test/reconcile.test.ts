// Reconcile against the real daemon: unchanged containers keep running
// untouched, changed ones are recreated, removed users lose only their objects.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { LABEL_ROOT, type UserDeployment } from '@ocm/core';
import { applyReconcile, planReconcile, type ReconcileEvent } from '@ocm/engine';
import { httpJson } from '../../../test/support/wait.js';
import { dockerTestContext } from './docker-support.js';
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
  const info = await ctx.engine.inspect(user.container.name);
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
  assert.equal((await ctx.engine.inspect(bob.container.name)).HostConfig.Memory, 300 * 1024 ** 2);
  assert.equal((await httpJson<{ ok: boolean }>(`http://127.0.0.1:${bob.container.hostPort}/healthz`)).json?.ok, true);

  const dropped = await reconcile([alice, bigger]);
  assert.deepEqual(dropped.summary, ['leave:alice', 'leave:bob', 'remove:carol']);
  assert.deepEqual(dropped.outcomes.find((o) => o.action.kind === 'remove')?.removedNetworks, [carol.network.name]);
  await assert.rejects(ctx.engine.inspect(carol.container.name), { code: 'OCM_E_CONTAINER_MISSING' });
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
  const id = (await ctx.engine.inspect(dave.container.name)).Id;
  assert.deepEqual((await reconcile([{ ...dave, enabled: false }])).summary, ['stop:dave']);
  assert.equal((await ctx.engine.inspect(dave.container.name)).State.Running, false);
  assert.deepEqual((await reconcile([{ ...dave, enabled: false }])).summary, ['leave:dave']);
  assert.deepEqual((await reconcile([dave])).summary, ['start:dave']);
  assert.equal((await ctx.engine.inspect(dave.container.name)).Id, id);
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
