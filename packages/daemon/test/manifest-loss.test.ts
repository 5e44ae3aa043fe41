// The daemon watching ocm.yaml: a manifest emptied behind its back is refused
// and the routes in force stay up; the last good manifest put back is applied
// as usual, and so is a loss once `ocm up --yes` confirmed it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseManifest, serializeManifest } from '@ocm/core';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { cli, makeRoot, tokenOf } from './support/root.js';

test('an emptied ocm.yaml is refused by the watching daemon: routes stay up, the refusal is logged', { timeout: 120_000 }, async (t) => {
  const { root, proxyPort } = await makeRoot(t);
  await cli(root, 'add', 'alice', '--env', 'OCM_FIXTURE_USER=alice');
  await cli(root, 'add', 'bob', '--env', 'OCM_FIXTURE_USER=bob');
  const { daemon, logs } = await startDaemon(t, root);
  const whoami = (name: string) => httpJson<{ user: string }>(`http://127.0.0.1:${proxyPort}/api/whoami`, {
    headers: { host: `${name}.localhost:${proxyPort}`, authorization: `Bearer ${tokenOf(root, name)}` },
  });
  for (const name of ['alice', 'bob']) assert.equal((await whoami(name)).json?.user, name);

  const good = readFileSync(`${root}/ocm.yaml`, 'utf8');
  writeFileSync(`${root}/ocm.yaml`, '');
  await daemon.reload();
  assert.deepEqual(daemon.manifest().users.map((u) => u.name), ['alice', 'bob'], 'the manifest in force is kept');
  const refusal = logs.find((line) => line.includes('was refused'));
  assert.ok(refusal !== undefined, 'the refusal is logged');
  assert.match(refusal, /ocm\.yaml is empty: all 2 users ocm last wrote are gone/);
  assert.match(refusal, /cp [^ ]+\/ocm\.yaml\.bak/);
  for (const name of ['alice', 'bob']) assert.equal((await whoami(name)).json?.user, name, `${name} still routed`);
  assert.equal(daemon.routes?.states().get('alice'), 'up');

  // Put back, then an edit through ocm: applied as before.
  writeFileSync(`${root}/ocm.yaml`, good);
  await cli(root, 'remove', 'bob');
  await daemon.reload();
  assert.deepEqual(daemon.manifest().users.map((u) => u.name), ['alice']);
  await waitFor(async () => (await whoami('bob')).status === 404, { timeoutMs: 5000, intervalMs: 50, what: 'bob gone (404)' });
  assert.equal((await whoami('alice')).json?.user, 'alice');

  // alice deleted by hand: refused until `ocm up --yes` confirms it, then applied without another edit.
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  writeFileSync(`${root}/ocm.yaml`, serializeManifest({ ...manifest, users: [] }));
  await daemon.reload();
  assert.deepEqual(daemon.manifest().users.map((u) => u.name), ['alice']);
  assert.equal((await whoami('alice')).json?.user, 'alice');
  await cli(root, 'up', '--yes', '--no-wait');
  await daemon.reload();
  assert.deepEqual(daemon.manifest().users, []);
  await waitFor(async () => (await whoami('alice')).status === 404, { timeoutMs: 5000, intervalMs: 50, what: 'alice gone (404)' });
});
