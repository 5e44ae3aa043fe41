// nginx mode: the daemon runs no proxy of its own; after each manifest
// change it applies ocm's server blocks to a real nginx (test + reload), so
// round trips to two real gateways, and users added or removed by the CLI
// while the daemon runs, go through nginx.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { freePort } from '../../../test/support/docker.js';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { startNginx } from './support/nginx.js';
import { cli, makeRoot, tokenOf } from './support/root.js';
import { openSocket } from './support/ws.js';

test('nginx mode: round trips to two gateways through a real nginx the daemon reloads', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const nginx = await startNginx(t, port);
  const httpsPort = await freePort();
  const { root } = await makeRoot(t, {
    proxyMode: 'nginx',
    edit: (yaml) => yaml.replace(
      / {4}nginx:\n {6}binary: nginx\n {6}httpPort: 80\n {6}httpsPort: 443\n {6}listenAddress: ""\n/,
      `    nginx:\n      confDir: ${nginx.confDir}\n      binary: nginx\n      config: ${nginx.configPath}\n      httpPort: ${port}\n      httpsPort: ${httpsPort}\n      listenAddress: 127.0.0.1\n`,
    ),
  });
  assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`confDir: ${nginx.confDir}`));
  await cli(root, 'add', 'alice', '--env', 'OCM_FIXTURE_USER=alice');
  await cli(root, 'add', 'bob', '--env', 'OCM_FIXTURE_USER=bob');
  const { daemon, addresses, logs } = await startDaemon(t, root);
  assert.equal(daemon.proxy, undefined, 'no embedded proxy in nginx mode');
  assert.equal(addresses.nginxConfDir, nginx.confDir);
  assert.deepEqual(readdirSync(nginx.confDir).sort(), ['alice.conf', 'bob.conf', 'ocm.conf']);

  const host = (name: string) => `${name}.localhost:${port}`;
  const whoami = (name: string, token: string) =>
    httpJson<{ user: string; 'x-forwarded-for': string }>(`http://127.0.0.1:${port}/api/whoami`, { headers: { host: host(name), authorization: `Bearer ${token}` } });

  // `nginx -s reload` returns before the new workers serve; for a moment the old worker
  // still takes new connections. Settled means ten answers in a row from the new config.
  let streak = 0;
  await waitFor(async () => {
    const ok = (await Promise.all(['alice', 'bob'].map((n) => whoami(n, tokenOf(root, n)).then((r) => r.status === 200, () => false)))).every(Boolean);
    streak = ok ? streak + 1 : 0;
    return streak >= 10;
  }, { timeoutMs: 10_000, intervalMs: 30, what: 'nginx serving the new config' });

  await t.test('HTTP and WebSocket round trips, host isolation, 404 for unknown names', async () => {
    for (const name of ['alice', 'bob']) {
      const me = await whoami(name, tokenOf(root, name));
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json?.user, name);
      const ws = await openSocket(port, host(name));
      assert.equal(await ws.echo(`via nginx to ${name}`), `via nginx to ${name}`);
      ws.close();
    }
    assert.equal((await whoami('alice', tokenOf(root, 'bob'))).status, 401);
    assert.equal((await httpJson(`http://127.0.0.1:${port}/`, { headers: { host: host('zed') } })).status, 404);
  });

  await t.test('a user added and removed by the CLI is routed and unrouted by the daemon', async () => {
    const alice = await openSocket(port, host('alice'));
    await cli(root, 'add', 'carol', '--env', 'OCM_FIXTURE_USER=carol');
    const added = Date.now();
    const carol = tokenOf(root, 'carol');
    await waitFor(async () => (await whoami('carol', carol)).json?.user === 'carol', { timeoutMs: 5000, intervalMs: 50, what: 'carol through nginx' });
    t.diagnostic(`carol routable through nginx ${Date.now() - added} ms after \`ocm add\` returned`);
    await cli(root, 'remove', 'carol');
    await waitFor(async () => (await httpJson(`http://127.0.0.1:${port}/`, { headers: { host: host('carol') } })).status === 404, { timeoutMs: 5000, intervalMs: 50, what: 'carol gone' });
    assert.ok(!readdirSync(nginx.confDir).includes('carol.conf'));
    // A reload lets open connections finish on the old workers: alice's WebSocket still echoes.
    assert.equal(await alice.echo('after two reloads'), 'after two reloads');
    alice.close();
  });

  await t.test('an ocm.yaml that does not parse is logged and changes nothing', async () => {
    const path = `${root}/ocm.yaml`;
    const good = readFileSync(path, 'utf8');
    const before = readdirSync(nginx.confDir).map((f) => readFileSync(`${nginx.confDir}/${f}`, 'utf8')).join('\n');
    writeFileSync(path, `${good}\nusers: [oops\n`);
    await waitFor(() => logs.join('').includes('does not parse'), { timeoutMs: 3000, what: 'the parse error logged' });
    assert.equal(readdirSync(nginx.confDir).map((f) => readFileSync(`${nginx.confDir}/${f}`, 'utf8')).join('\n'), before);
    assert.equal((await whoami('alice', tokenOf(root, 'alice'))).status, 200);
    writeFileSync(path, good);
  });
});

test('nginx mode with the root\'s own nginx/ dir: the CLI wrote the files, the daemon still reloads', { timeout: 60_000 }, async (t) => {
  const { root } = await makeRoot(t, { proxyMode: 'nginx' });
  await cli(root, 'add', 'alice', '--no-start');
  const calls: string[] = [];
  const control = { test: async () => void calls.push('test'), reload: async () => void calls.push('reload') };
  const { daemon, addresses } = await startDaemon(t, root, { nginxControl: control });
  assert.equal(addresses.nginxConfDir, `${root}/nginx`);
  assert.deepEqual(calls, ['test', 'reload'], 'nginx may have started before these files existed');
  await cli(root, 'add', 'bob', '--no-start');
  await waitFor(() => calls.length === 4, { timeoutMs: 3000, what: 'a reload for bob' });
  // A rewrite that changes nothing nginx reads (bob's limits) does not reload.
  await cli(root, 'set', 'bob', '--memory', '1g', '--disable');
  await daemon.reload();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.length, 4);
});
