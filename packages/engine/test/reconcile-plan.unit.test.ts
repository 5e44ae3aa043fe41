import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UserDeployment } from '@ocm/core';
import { planReconcile, type ObservedContainer } from '@ocm/engine';
import { userSpec } from './factory.js';

const run = { id: 'tplan', root: '/opt/ocm' };

function observed(user: UserDeployment, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `id-${user.name}`,
    name: user.container.name,
    user: user.name,
    root: run.root,
    specHash: user.specHash,
    image: user.container.image,
    state: 'running',
    labels: { ...user.container.labels },
    networks: [user.network.name],
    ...over,
  };
}

const summary = (actions: ReturnType<typeof planReconcile>): string[] => actions.map((a) => `${a.kind}:${a.user}`);

test('unchanged running containers are left alone; missing ones are created', () => {
  const alice = userSpec(run, 'alice');
  const bob = userSpec(run, 'bob');
  const actions = planReconcile([alice, bob], [observed(alice)], { root: run.root });
  assert.deepEqual(summary(actions), ['leave:tplan-alice', 'create:tplan-bob']);
});

test('a different spec hash means recreate; a stopped one is started', () => {
  const alice = userSpec(run, 'alice');
  const bob = userSpec(run, 'bob');
  const actions = planReconcile([alice, bob], [observed(alice, { specHash: 'old' }), observed(bob, { state: 'exited' })], { root: run.root });
  assert.deepEqual(summary(actions), ['recreate:tplan-alice', 'start:tplan-bob']);
  assert.match(actions[0]!.reason, /old -> /);
});

test('disabled users are stopped, or not created', () => {
  const alice = { ...userSpec(run, 'alice'), enabled: false };
  const bob = { ...userSpec(run, 'bob'), enabled: false };
  const carol = { ...userSpec(run, 'carol'), enabled: false };
  const actions = planReconcile([alice, bob, carol], [observed(alice), observed(bob, { state: 'exited' })], { root: run.root });
  assert.deepEqual(summary(actions), ['stop:tplan-alice', 'leave:tplan-bob', 'leave:tplan-carol']);
});

test('ocm containers of users no longer in the plan are removed; foreign and other-root ones never', () => {
  const alice = userSpec(run, 'alice');
  const gone = userSpec(run, 'gone');
  const foreign = observed(userSpec(run, 'foreign'), { labels: { 'ocm.test': '1' } });
  const otherRoot = observed(userSpec({ id: 'tplan', root: '/srv/other' }, 'dave'), { root: '/srv/other' });
  const actions = planReconcile([alice], [observed(alice), observed(gone), foreign, otherRoot], { root: run.root });
  assert.deepEqual(summary(actions), ['leave:tplan-alice', 'remove:tplan-gone']);
});

test('without a root scope every ocm-managed container is in scope, still never a foreign one', () => {
  const foreign = observed(userSpec(run, 'foreign'), { labels: {} });
  const gone = observed(userSpec(run, 'gone'));
  assert.deepEqual(summary(planReconcile([], [foreign, gone])), ['remove:tplan-gone']);
});

test('a dead container is recreated, a paused or restarting one left to its owner', () => {
  const alice = userSpec(run, 'alice');
  const bob = userSpec(run, 'bob');
  const carol = userSpec(run, 'carol');
  const actions = planReconcile(
    [alice, bob, carol],
    [observed(alice, { state: 'dead' }), observed(bob, { state: 'paused' }), observed(carol, { state: 'restarting' })],
    { root: run.root },
  );
  assert.deepEqual(summary(actions), ['recreate:tplan-alice', 'leave:tplan-bob', 'leave:tplan-carol']);
});

test('what an interrupted swap left is removed first and marked a leftover; a dropped user is not', () => {
  const alice = userSpec(run, 'alice');
  const bob = userSpec(run, 'bob');
  const actions = planReconcile([alice], [
    observed(bob),
    observed(alice, { name: `${alice.container.name}.prev`, state: 'exited' }),
    observed(alice, { name: `${alice.container.name}.next`, state: 'created' }),
  ], { root: run.root });
  assert.deepEqual(actions.map((a) => `${a.kind}:${a.user}:${a.leftover === true}`), [
    'remove:tplan-alice:true', 'remove:tplan-alice:true', 'create:tplan-alice:false', 'remove:tplan-bob:false',
  ]);
  assert.equal(actions[0]!.reason, 'left by an interrupted change');
  // A `.next` of a user no longer wanted is an ordinary removal.
  const gone = planReconcile([], [observed(alice, { name: `${alice.container.name}.next` })], { root: run.root });
  assert.deepEqual(gone.map((a) => `${a.kind}:${a.leftover === true}`), ['remove:false']);
});
