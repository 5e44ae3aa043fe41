// Upgrades are gated on health: a bad image is rolled back and the user keeps
// answering; a good one replaces the old container.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABEL_SPEC_HASH } from '@ocm/core';
import { applyReconcile, planReconcile, upgradeUser } from '@ocm/engine';
import { FIXTURE_IMAGE, RUN_ID } from '../../../test/support/docker.js';
import { httpJson } from '../../../test/support/wait.js';
import { buildDerivedImage, dockerTestContext, removeAfter } from './docker-support.js';
import { makeUser } from './factory.js';

const ctx = dockerTestContext();
const health = { timeoutMs: 20_000, intervalMs: 250 };
const broken = `ocm-fixture-gateway:never-healthy-${RUN_ID}`;
const next = `ocm-fixture-gateway:next-${RUN_ID}`;

async function deploy(short: string) {
  const user = await makeUser(ctx.run, short);
  const outcomes = await applyReconcile(ctx.engine, planReconcile([user], []), { health });
  assert.ok(outcomes[0]?.ok, outcomes[0]?.error?.message);
  return user;
}

const healthz = async (port: number) => (await httpJson<{ ok?: boolean }>(`http://127.0.0.1:${port}/healthz`)).json?.ok;

test('an image that never becomes healthy is rolled back and the user keeps answering', async (t) => {
  await buildDerivedImage(ctx.docker, broken, ['ENV OCM_FIXTURE_NEVER_HEALTHY=1']);
  const alice = await deploy('alice');
  removeAfter(t, ctx.docker, alice);
  const old = await ctx.docker.getContainer(alice.container.name).inspect();

  const report = await upgradeUser(ctx.engine, alice, broken, { timeoutMs: 2_000, intervalMs: 250 });
  assert.equal(report.result, 'rolled-back');
  assert.equal(report.from, FIXTURE_IMAGE);
  assert.equal(report.to, broken);
  assert.equal(report.error?.code, 'OCM_E_UPGRADE_FAILED');
  assert.match(report.error.message, /rolled back/);
  assert.equal((report.error.cause as { code?: string }).code, 'OCM_E_UNHEALTHY');

  const now = await ctx.docker.getContainer(alice.container.name).inspect();
  assert.notEqual(now.Id, old.Id);
  assert.equal(now.Image, old.Image);
  assert.equal(now.Config.Image, FIXTURE_IMAGE);
  assert.equal(now.Config.Labels[LABEL_SPEC_HASH], alice.specHash);
  assert.equal(await healthz(alice.container.hostPort), true);
});

test('a healthy new image replaces the old container', async (t) => {
  await buildDerivedImage(ctx.docker, next, ['ENV OCM_FIXTURE_FLAVOUR=next']);
  const bob = await deploy('bob');
  removeAfter(t, ctx.docker, bob);
  const report = await upgradeUser(ctx.engine, bob, next, health);
  assert.equal(report.result, 'upgraded');
  assert.equal(report.error, undefined);
  const now = await ctx.docker.getContainer(bob.container.name).inspect();
  assert.equal(now.Config.Image, next);
  assert.ok(now.Config.Env.includes('OCM_FIXTURE_FLAVOUR=next'));
  assert.equal(await healthz(bob.container.hostPort), true);
});

test('an image that is not on the host is refused before the running container is touched', async (t) => {
  const carol = await deploy('carol');
  removeAfter(t, ctx.docker, carol);
  const before = await ctx.docker.getContainer(carol.container.name).inspect();
  await assert.rejects(upgradeUser(ctx.engine, carol, 'ocm-fixture-gateway:does-not-exist', health), { code: 'OCM_E_IMAGE_MISSING' });
  const after = await ctx.docker.getContainer(carol.container.name).inspect();
  assert.equal(after.Id, before.Id);
  assert.equal(after.State.StartedAt, before.State.StartedAt);
});

test('when the tag itself moved to a bad image, rollback uses the old image id', async (t) => {
  const moving = `ocm-fixture-gateway:moving-${RUN_ID}`;
  await buildDerivedImage(ctx.docker, moving, ['ENV OCM_FIXTURE_FLAVOUR=moving']);
  await buildDerivedImage(ctx.docker, broken, ['ENV OCM_FIXTURE_NEVER_HEALTHY=1']);
  const dave = await makeUser(ctx.run, 'dave', { image: moving });
  removeAfter(t, ctx.docker, dave);
  assert.ok((await applyReconcile(ctx.engine, planReconcile([dave], []), { health }))[0]?.ok);
  const goodId = (await ctx.docker.getContainer(dave.container.name).inspect()).Image;
  // What `docker pull` of a bad release under the same tag does.
  await ctx.docker.getImage(broken).tag({ repo: 'ocm-fixture-gateway', tag: `moving-${RUN_ID}` });
  const report = await upgradeUser(ctx.engine, dave, moving, { timeoutMs: 2_000, intervalMs: 250 });
  assert.equal(report.result, 'rolled-back');
  assert.equal((await ctx.docker.getContainer(dave.container.name).inspect()).Image, goodId);
  assert.equal(await healthz(dave.container.hostPort), true);
});
