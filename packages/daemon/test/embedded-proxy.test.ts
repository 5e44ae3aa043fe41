// Through the daemon's embedded proxy to real fixture gateways made by the
// real CLI: HTTP and WebSocket round trips, host isolation, the proxy's own
// 404/503 pages, and routes that follow `ocm add/stop/remove` while another
// user's WebSocket stays open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { cli, makeRoot, tokenOf } from './support/root.js';
import { openSocket } from './support/ws.js';
import { detectLocalClientAddress } from '@ocm/store';

interface WhoAmI { ok: boolean; user: string; remoteAddress: string; 'x-forwarded-for': string | null; error?: string }

test('embedded proxy: two gateways, isolation, pages and live route changes', { timeout: 150_000 }, async (t) => {
  const { root, proxyPort } = await makeRoot(t);
  await cli(root, 'add', 'alice', '--env', 'OCM_FIXTURE_USER=alice');
  await cli(root, 'add', 'bob', '--env', 'OCM_FIXTURE_USER=bob');
  const tokens = { alice: tokenOf(root, 'alice'), bob: tokenOf(root, 'bob') };
  const { daemon, logs, token: adminToken } = await startDaemon(t, root);
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const host = (name: string) => `${name}.localhost:${proxyPort}`;
  const get = (name: string, path: string, headers: Record<string, string> = {}) => httpJson<WhoAmI>(`${proxy}${path}`, { headers: { host: host(name), ...headers } });
  const whoami = (name: string, token: string) => get(name, '/api/whoami', { authorization: `Bearer ${token}` });

  await t.test('HTTP reaches each user\'s own gateway, and only it', async () => {
    for (const name of ['alice', 'bob'] as const) {
      const page = await get(name, '/');
      assert.equal(page.status, 200);
      assert.match(page.text, /OpenClaw Control UI/);
      const me = await whoami(name, tokens[name]);
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json?.user, name);
    }
    // bob's token on alice's host is checked by alice's gateway, which does not know it.
    assert.equal((await whoami('alice', tokens.bob)).status, 401);
    assert.equal((await whoami('bob', tokens.alice)).status, 401);
  });

  await t.test('WebSocket round trip on /', async () => {
    for (const name of ['alice', 'bob']) {
      const ws = await openSocket(proxyPort, host(name));
      assert.equal(await ws.echo(`hello ${name}`), `hello ${name}`);
      ws.close();
      assert.equal((await ws.closed).code, 1000);
    }
  });

  await t.test('unknown subdomain gets the 404 page', async () => {
    const r = await get('zed', '/');
    assert.equal(r.status, 404);
    assert.match(r.text, /zed\.localhost<\/code> is not configured/);
  });

  // GATEWAY.md: the gateway refuses a forwarded loopback client, so the daemon's proxy sends none for them.
  await t.test('a browser on this machine is not refused by a strict gateway', async () => {
    await cli(root, 'add', 'dave', '--env', 'OCM_FIXTURE_USER=dave', '--env', 'OCM_FIXTURE_STRICT=1');
    const token = tokenOf(root, 'dave');
    const me = await waitFor(async () => {
      const r = await whoami('dave', token);
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 5000, what: 'dave routable' });
    // Forwarded as one of this host's own non-loopback addresses, never as 127.0.0.1.
    assert.equal(me.json?.['x-forwarded-for'], detectLocalClientAddress());
    assert.doesNotMatch(me.json?.['x-forwarded-for'] ?? '', /^127\.|^::1$/);
    // The origin check still applies to WebSockets: the user's own origin passes, another does not.
    const ws = await openSocket(proxyPort, host('dave'), { origin: `http://${host('dave')}` });
    assert.equal(await ws.echo('strict'), 'strict');
    ws.close();
    await assert.rejects(openSocket(proxyPort, host('dave'), { origin: 'http://evil.example' }), /HTTP 403/);
    await cli(root, 'remove', 'dave');
  });

  await t.test('ocm add/stop/remove while alice keeps a WebSocket open', async () => {
    const alice = await openSocket(proxyPort, host('alice'));
    let echoes = 0;
    let failure: unknown;
    let keepGoing = true;
    const loop = (async () => {
      while (keepGoing) {
        try {
          assert.equal(await alice.echo(`n${echoes}`, 3000), `n${echoes}`);
          echoes += 1;
        } catch (error) {
          failure = error;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await cli(root, 'add', 'carol', '--env', 'OCM_FIXTURE_USER=carol');
    const added = Date.now();
    const carolToken = tokenOf(root, 'carol');
    await waitFor(async () => (await whoami('carol', carolToken)).json?.user === 'carol', { timeoutMs: 5000, intervalMs: 50, what: 'carol routable' });
    const routableAfterMs = Date.now() - added;
    t.diagnostic(`carol routable ${routableAfterMs} ms after \`ocm add carol\` returned`);

    await cli(root, 'stop', 'bob');
    const down = await waitFor(async () => {
      const r = await get('bob', '/');
      return r.status === 503 ? r : undefined;
    }, { timeoutMs: 5000, intervalMs: 100, what: 'bob answered with the 503 page' });
    assert.match(down.text, /not running right now/);
    assert.equal(down.headers['retry-after'], '5');

    await cli(root, 'remove', 'carol');
    await waitFor(async () => (await get('carol', '/')).status === 404, { timeoutMs: 3000, intervalMs: 50, what: 'carol gone (404)' });

    keepGoing = false;
    await loop;
    assert.equal(failure, undefined, `alice's WebSocket failed after ${echoes} echoes: ${String(failure)}`);
    assert.ok(echoes >= 10, `only ${echoes} echoes`);
    assert.equal(await alice.echo('still here'), 'still here');
    alice.close();
    assert.equal(daemon.routes?.states().get('alice'), 'up');
    // Route states follow the health probes (every second here), so bob's turns within a round or two.
    await waitFor(() => daemon.routes?.states().get('bob') === 'down', { timeoutMs: 5000, intervalMs: 100, what: "bob's route down" });
  });

  await t.test('the log holds no token', () => {
    const text = logs.join('');
    assert.ok(text.includes('ocm.yaml changed'), 'the watch logged the reloads');
    for (const secret of [adminToken, tokens.alice, tokens.bob]) assert.ok(!text.includes(secret), 'a token reached the log');
  });
});
