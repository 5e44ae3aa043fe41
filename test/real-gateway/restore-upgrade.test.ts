// Backups a real gateway restores from, and upgrades it survives: a running, a
// stopped and a deleted-container user come back healthy with the Control UI
// served; a stop that lands while the gateway starts does not strand its
// owner lease; an upgrade to another image of the same gateway keeps the user
// healthy and an image whose gateway refuses to start is rolled back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { controlUiServed } from '../support/control-ui.js';
import { BROKEN_GATEWAY, RUN_ID, buildGatewayVariant as buildImage, getDocker } from '../support/docker.js';

const docker = getDocker();
const slow = { timeoutMs: 600_000 };

test('the real gateway: restore running, stopped and deleted; down while starting; upgrade and roll back', { timeout: 1_800_000 }, async (t) => {
  const { root, portBase, project } = await testRoot(t, { real: true });
  const container = `${project}-alice`;
  const host = 'alice.localhost';
  let r = await ocm(['add', 'alice'], { root, ...slow });
  assert.equal(r.code, 0, r.stderr);
  await controlUiServed(portBase, host);

  r = await ocm(['backup', 'alice'], { root, ...slow });
  assert.equal(r.code, 0, r.stderr);
  const archive = /\S+\.tar\.gz/.exec(r.stdout)?.[0] ?? '';
  const listed = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok(listed.stdout.includes('state/openclaw.json'), 'the config travels');
  assert.ok(!/^state\/tmp\//m.test(listed.stdout), 'the owner lease and locks under state/tmp never travel');
  assert.ok(!listed.stdout.includes('state/cache/control-ui-assets/'), 'the unpacked Control UI never travels: the gateway unpacks it again');

  const restore = async (what: string) => {
    const before = (await ocm(['token', 'alice'], { root })).stdout.trim();
    const restored = await ocm(['restore', 'alice', '--yes'], { root, ...slow });
    assert.equal(restored.code, 0, `${what}: ${restored.stdout}${restored.stderr}`);
    assert.match(restored.stdout, /alice was down \d+\.\d s/);
    assert.notEqual((await ocm(['token', 'alice'], { root })).stdout.trim(), before, `${what}: token rotated`);
    assert.equal((await docker.getContainer(container).inspect()).State.Running, true, `${what}: running`);
    await controlUiServed(portBase, host);
  };
  await t.test('restore of a running user', () => restore('running'));
  await t.test('restore of a stopped user', async () => {
    assert.equal((await ocm(['stop', 'alice'], { root })).code, 0);
    await restore('stopped');
  });
  await t.test('restore of a user whose container was deleted', async () => {
    await docker.getContainer(container).remove({ force: true });
    await restore('deleted');
  });

  await t.test('a new container over state whose gateway was stopped while starting comes up', async () => {
    // Stop it while it starts: its lease stays in state/openclaw.sqlite.
    assert.equal((await ocm(['restart', 'alice', '--no-wait'], { root })).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal((await ocm(['down'], { root })).code, 0);
    r = await ocm(['up'], { root, ...slow });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const logs = (await docker.getContainer(container).logs({ stdout: true, stderr: true })).toString('utf8');
    assert.doesNotMatch(logs, /owner lease is still active/, 'no start refused over a stale lease');
    await controlUiServed(portBase, host);
  });

  const tag = RUN_ID.toLowerCase().replace(/[^a-z0-9]/g, '');
  const next = `ocm-test-openclaw-next-${tag}:1`;
  const broken = `ocm-test-openclaw-broken-${tag}:1`;
  buildImage(next, 'LABEL ocm.test.variant=next');
  // The same gateway, but its entry point refuses to start.
  buildImage(broken, BROKEN_GATEWAY);
  t.after(async () => {
    for (const image of [next, broken]) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  });

  await t.test('upgrade to another image of the real gateway keeps alice healthy', async () => {
    r = await ocm(['upgrade', '--image', next], { root, ...slow });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^alice +upgraded /m);
    assert.equal((await docker.getContainer(container).inspect()).Config.Image, next);
    await controlUiServed(portBase, host);
  });

  await t.test('an image whose gateway refuses to start is rolled back', async () => {
    r = await ocm(['upgrade', '--image', broken], { root, ...slow });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^alice +rolled-back /m);
    assert.equal((await docker.getContainer(container).inspect()).Config.Image, next, 'back on the image that worked');
    assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`image: ${next}`));
    await controlUiServed(portBase, host);
  });
});
