// Self-test of the Docker test support: the fixture image builds, a labelled
// container from it answers /healthz through a 127.0.0.1-published port, and
// reaping removes it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  FIXTURE_IMAGE,
  GATEWAY_PORT,
  RUN_ID,
  RUN_LABEL,
  TEST_LABEL,
  cleanup,
  dockerAvailable,
  ensureFixtureImage,
  getDocker,
  reapTestObjects,
  testLabels,
  tmpRoot,
  uniqueName,
  freePort,
  runFixture,
} from './docker.js';
import { httpJson, waitFor } from './wait.js';

// Locally without Docker these tests are skipped; in CI a missing engine is a failure.
const haveDocker = process.env.CI ? true : await dockerAvailable();
const skip = haveDocker ? false : 'Docker Engine not reachable';

test('uniqueName gives short, distinct DNS labels', () => {
  const names = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = uniqueName('Alice_Test.Name--');
    assert.match(n, /^[a-z][a-z0-9-]{0,29}$/);
    assert.ok(!n.includes('--'), n);
    names.add(n);
  }
  assert.equal(names.size, 200);
  assert.match(uniqueName('123'), /^t-[a-z0-9]{8}$/);
  assert.ok(uniqueName('x'.repeat(100)).length <= 30);
});

test('freePort returns a bindable port', async () => {
  const port = await freePort();
  assert.ok(port > 1024 && port < 65536);
});

test('waitFor resolves with the first truthy value and explains timeouts', async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? n : false), { intervalMs: 5 }), 3);
  await assert.rejects(
    waitFor(() => { throw new Error('still down'); }, { timeoutMs: 60, intervalMs: 10, what: 'the thing' }),
    /timed out after \d+ ms .* waiting for the thing; last error: still down/,
  );
});

test('tmpRoot is removed after the test', async (t) => {
  let dir = '';
  await t.test('inner', (tt) => {
    dir = tmpRoot(tt);
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    assert.ok(fs.existsSync(dir));
  });
  assert.ok(dir && !fs.existsSync(dir), `${dir} should be gone`);
});

test('fixture gateway runs labelled, answers health through 127.0.0.1, and is reaped', { skip, timeout: 120_000 }, async (t) => {
  const docker = getDocker();
  await ensureFixtureImage();
  const image = await docker.getImage(FIXTURE_IMAGE).inspect();
  assert.equal(image.Config.Labels?.['ocm.fixture'], '1');
  assert.equal(image.Config.User, '1000:1000');

  const c = cleanup(t);
  const fx = await runFixture(c, { name: uniqueName('support') });

  const info = await fx.container.inspect();
  assert.equal(info.Config.Labels[TEST_LABEL], '1');
  assert.equal(info.Config.Labels[RUN_LABEL], RUN_ID);
  const portBindings = info.HostConfig.PortBindings as Record<string, Array<{ HostIp: string; HostPort: string }>> | undefined;
  const bindings = portBindings?.[`${GATEWAY_PORT}/tcp`] ?? [];
  assert.deepEqual(bindings.map((b) => b.HostIp), ['127.0.0.1']);

  const health = await httpJson<{ ok: boolean; status: string }>(`${fx.url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { ok: true, status: 'live' });

  // Unknown paths answer 200 HTML, which is why callers must check the body.
  const spa = await httpJson(`${fx.url}/no-such-page`);
  assert.equal(spa.status, 200);
  assert.equal(spa.json, undefined);

  const anon = await httpJson(`${fx.url}/api/whoami`);
  assert.equal(anon.status, 401);
  const who = await httpJson<{ user: string }>(`${fx.url}/api/whoami`, {
    headers: { authorization: `Bearer ${fx.token}`, host: 'alice.example.test' },
  });
  assert.equal(who.status, 200);
  assert.equal(who.json?.user, fx.name);

  // A labelled network and volume are reaped too.
  const net = await docker.createNetwork({ Name: uniqueName('support-net'), Labels: testLabels() });
  c.network(net.id);
  const vol = await docker.createVolume({ Name: uniqueName('support-vol'), Labels: testLabels() });
  c.volume(vol.name);

  // Only this process' objects: other test files may be running in parallel.
  const reaped = await reapTestObjects(docker, { run: RUN_ID });
  assert.ok(reaped.containers >= 1 && reaped.networks >= 1 && reaped.volumes >= 1, JSON.stringify(reaped));
  await assert.rejects(fx.container.inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
  const left = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${RUN_ID}`] } });
  assert.equal(left.length, 0);
});
