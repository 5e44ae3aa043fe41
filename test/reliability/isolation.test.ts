// Isolation between users on one host, tried from inside a real gateway
// container: no path to another user's container, port, the Docker socket or
// the admin API; no capabilities; private files; loopback-only listeners;
// the proxy never crosses users; the admin API refuses every route without
// the token. The gap Docker leaves (host services on 0.0.0.0 answer the
// bridge gateway) is closed by ocm's network policy.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { test } from 'node:test';
import fc from 'fast-check';
import { adminRoutes } from '@ocm/daemon';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { getDocker } from '../support/docker.js';
import { httpJson } from '../support/wait.js';
import { startDaemon } from './support/daemon.js';
import { connectFrom, execNode, listeningSockets, run } from './support/measure.js';
import { rawRequest } from './support/raw-http.js';
import { record } from './support/record.js';

const docker = getDocker();

interface Net { ip: string; gateway: string }
async function netOf(container: string): Promise<Net> {
  const info = await docker.getContainer(container).inspect();
  const n = Object.values(info.NetworkSettings.Networks)[0];
  assert.ok(n !== undefined, `${container} has a network`);
  return { ip: n.IPAddress, gateway: n.Gateway };
}

const STATUS_SCRIPT = `
const fs = require('fs');
const pick = (text) => Object.fromEntries(text.split('\\n').filter((l) => /^(Uid|Gid|Cap\\w+|NoNewPrivs|Seccomp):/.test(l)).map((l) => l.split(/:\\s+/)));
const pids = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p));
const gateway = pids.find((p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').includes('openclaw.mjs'); } catch { return false; } });
let setuid = 'allowed';
try { process.setuid(0); } catch (e) { setuid = e.code; }
const out = {
  self: pick(fs.readFileSync('/proc/self/status', 'utf8')),
  init: pick(fs.readFileSync('/proc/1/status', 'utf8')),
  gateway: gateway === undefined ? null : pick(fs.readFileSync('/proc/' + gateway + '/status', 'utf8')),
  sockets: ['/var/run/docker.sock', '/run/docker.sock', '/var/run/containerd/containerd.sock', '/run/containerd/containerd.sock'].filter((p) => fs.existsSync(p)),
  mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8'),
  setuid,
};
process.stdout.write(JSON.stringify(out));
`;

test('isolation between two users on one host', { timeout: 300_000 }, async (t) => {
  const { root, portBase, proxyPort, pool, project, stopFirst } = await testRoot(t);
  const c = (n: string): string => `${project}-${n}`;
  for (const name of ['alice', 'bob']) {
    const r = await ocm(['add', name, '--env', `OCM_FIXTURE_USER=${name}`], { root });
    assert.equal(r.code, 0, r.stderr);
  }
  const ports = { alice: portBase, bob: portBase + 1 };
  const tokens = {
    alice: (await ocm(['token', 'alice'], { root })).stdout.trim(),
    bob: (await ocm(['token', 'bob'], { root })).stdout.trim(),
  };
  const nets = { alice: await netOf(c('alice')), bob: await netOf(c('bob')) };
  const running = await startDaemon(t, root, {}, stopFirst);
  const adminPort = running.addresses.admin.port;
  assert.equal(running.addresses.proxy?.port, proxyPort);

  await t.test('no path from one container to another user, the host ports or the admin API', async () => {
    // `ip` also lists interfaces that are down (docker0 without containers), which node's networkInterfaces() skips.
    const ip = await run('ip', ['-j', '-4', 'addr', 'show']);
    const links = ip.code === 0 ? (JSON.parse(ip.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>) : [];
    const docker0 = links.find((l) => l.ifname === 'docker0')?.addr_info[0]?.local;
    const hostAddresses = [...new Set([
      ...links.filter((l) => l.ifname !== 'lo').flatMap((l) => l.addr_info.map((a) => a.local)),
      ...Object.values(os.networkInterfaces()).flat().filter((a): a is os.NetworkInterfaceInfo => a !== undefined && a.family === 'IPv4' && !a.internal).map((a) => a.address),
    ])];
    const figures: Record<string, number> = {};
    for (const [me, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      const targets: Array<[string, number]> = [];
      for (const port of [18789, 22, 80, 443, 7070, 8080]) targets.push([nets[other].ip, port]);
      for (const port of [ports[other], ports[me], adminPort, proxyPort]) {
        targets.push([nets[me].gateway, port], [nets[other].gateway, port], ['127.0.0.1', port]);
        for (const address of hostAddresses) targets.push([address, port]);
      }
      const results = await connectFrom(c(me), targets);
      const open = results.filter(([, , outcome]) => outcome === 'open');
      assert.deepEqual(open, [], `${me} reached: ${JSON.stringify(open)}`);
      figures[`${me}Probes`] = results.length;
    }
    // The probe itself works: the container reaches its own gateway on its loopback.
    const self = await connectFrom(c('alice'), [['127.0.0.1', 18789]]);
    assert.equal(self[0]?.[2], 'open');
    record(t, 'isolation.network', { ...figures, hostAddresses: hostAddresses.length, docker0: docker0 ?? null, adminPort, proxyPort, result: 'all refused or timed out' });
  });

  await t.test('no capabilities, no-new-privileges, no Docker socket, only the own mounts', async () => {
    for (const name of ['alice', 'bob'] as const) {
      const r = await execNode(c(name), STATUS_SCRIPT);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { self: Record<string, string>; init: Record<string, string>; gateway: Record<string, string> | null; sockets: string[]; mounts: string; setuid: string };
      assert.ok(s.gateway !== null, 'the gateway process is visible');
      for (const [which, status] of [['exec', s.self], ['pid 1', s.init], ['gateway', s.gateway]] as const) {
        for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(status[cap], '0000000000000000', `${name} ${which} ${cap}`);
        assert.equal(status.NoNewPrivs, '1', `${name} ${which} NoNewPrivs`);
        assert.equal(status.Seccomp, '2', `${name} ${which} seccomp filter`);
        assert.match(status.Uid ?? '', /^1000\s+1000\s+1000\s+1000$/, `${name} ${which} uid`);
      }
      assert.deepEqual(s.sockets, [], 'no engine socket inside');
      assert.equal(s.setuid, 'EPERM');
      const other = name === 'alice' ? 'bob' : 'alice';
      assert.ok(!s.mounts.includes(`/users/${other}`), `${name} sees ${other}'s directories`);
      assert.ok(!/docker\.sock|containerd/.test(s.mounts), 'no engine mounts');
      assert.ok(s.mounts.includes(`/users/${name}/state`) && s.mounts.includes(`/users/${name}/config`));
    }
    record(t, 'isolation.privileges', { containers: 2, processesChecked: 6, capabilities: 'all zero', noNewPrivs: 1, seccomp: 2, dockerSocket: 'absent', setuid0: 'EPERM' });
  });

  await t.test('state and config 0700 of the gateway uid; env, manifest, token and archives 0600', async () => {
    const b = await ocm(['backup', 'alice'], { root });
    assert.equal(b.code, 0, b.stderr);
    const mode = (p: string): { mode: number; uid: number; gid: number } => {
      const s = statSync(p);
      return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
    };
    let checked = 0;
    for (const name of ['alice', 'bob']) {
      for (const dir of ['state', 'config']) {
        assert.deepEqual(mode(`${root}/users/${name}/${dir}`), { mode: 0o700, uid: 1000, gid: 1000 }, `${name}/${dir}`);
        checked++;
      }
      assert.equal(mode(`${root}/users/${name}/env`).mode, 0o600, `${name}/env`);
      checked++;
    }
    for (const file of ['ocm.yaml', 'admin.token']) {
      assert.equal(mode(`${root}/${file}`).mode, 0o600, file);
      checked++;
    }
    assert.equal(mode(`${root}/backups`).mode & 0o077, 0, 'backups/ closed to others');
    const archives = readdirSync(`${root}/backups/alice`).filter((f) => f.endsWith('.tar.gz') || f.endsWith('.sha256'));
    assert.ok(archives.length >= 2, archives.join(','));
    for (const f of archives) {
      assert.equal(mode(`${root}/backups/alice/${f}`).mode, 0o600, f);
      checked++;
    }
    record(t, 'isolation.files', { pathsChecked: checked, result: 'modes and owners as documented' });
  });

  await t.test('every listener ocm opened is on 127.0.0.1', async () => {
    const ours = new Set([...Array.from({ length: 50 }, (_, i) => portBase + i), adminPort, proxyPort]);
    const mine = (await listeningSockets()).filter((s) => ours.has(s.port));
    for (const port of [ports.alice, ports.bob, adminPort, proxyPort]) assert.ok(mine.some((s) => s.port === port), `port ${port} listens`);
    assert.deepEqual(mine.filter((s) => s.address !== '127.0.0.1'), [], 'a listener on another address');
    record(t, 'isolation.listeners', { listeners: mine.length, addresses: [...new Set(mine.map((s) => s.address))] });
  });

  await t.test('the embedded proxy never routes a host to another user', async () => {
    const users = ['alice', 'bob'] as const;
    // Liberal oracle: HTTP drops surrounding blanks; then lowercase, strip a numeric port and one trailing dot.
    const expectedUser = (host: string): 'alice' | 'bob' | undefined => {
      const name = host.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
      return users.find((u) => name === `${u}.localhost`);
    };
    const variants = fc.oneof(
      fc.constantFrom(...users).chain((u) => fc.tuple(fc.constant(`${u}.localhost`), fc.constantFrom('', ':', `:${proxyPort}`, ':0', ':99999', ':abc', '.', '..', ' ', '\t', '%00', '\u0000', '.evil', '.localhost', '@bob.localhost', ',bob.localhost', ', alice.localhost', '/'), fc.boolean())
        .map(([h, suffix, upper]) => `${upper ? h.toUpperCase() : h}${suffix}`)),
      fc.constantFrom(...users).chain((u) => fc.constantFrom(`x.${u}.localhost`, `${u}-.localhost`, `${u}.localhost.localhost`, `${u}`, `[::1]`, `${u}.LOCALHOST:${proxyPort}`, `аlice.localhost`, `ａｌｉｃｅ.localhost`, `${u}\\.localhost`, `${u}.local%68ost`, '')),
      fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
    );
    const hosts = [...users.map((u) => `${u}.localhost`), ...fc.sample(variants, { numRuns: 400, seed: 20261123 })];
    let refused = 0;
    let routed = 0;
    for (const host of hosts) {
      const expected = expectedUser(host);
      const token = tokens[expected ?? 'alice'];
      const head = `GET /api/whoami HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
      const r = await rawRequest(proxyPort, head);
      assert.ok(r.status > 0, `no HTTP answer for Host ${JSON.stringify(host)}: ${r.error}`);
      assert.notEqual(r.status, 401, `Host ${JSON.stringify(host)} reached a gateway that does not hold ${expected ?? 'alice'}'s token`);
      if (r.status === 200) {
        const who = JSON.parse(r.body) as { user: string };
        assert.equal(who.user, expected, `Host ${JSON.stringify(host)} answered by ${who.user}`);
        routed++;
      } else {
        assert.ok(r.status >= 400, `Host ${JSON.stringify(host)}: HTTP ${r.status}`);
        refused++;
      }
    }
    for (const u of users) {
      const r = await httpJson<{ user: string }>(`http://127.0.0.1:${proxyPort}/api/whoami`, { headers: { host: `${u}.localhost:${proxyPort}`, authorization: `Bearer ${tokens[u]}` } });
      assert.equal(r.json?.user, u);
    }
    // Two Host headers, or an absolute-form target naming the other user: never the other gateway.
    const tricky = [
      `GET /api/whoami HTTP/1.1\r\nHost: alice.localhost\r\nHost: bob.localhost\r\nAuthorization: Bearer ${tokens.alice}\r\nConnection: close\r\n\r\n`,
      `GET http://bob.localhost/api/whoami HTTP/1.1\r\nHost: alice.localhost\r\nAuthorization: Bearer ${tokens.alice}\r\nConnection: close\r\n\r\n`,
      `GET /api/whoami HTTP/1.1\r\nHost: alice.localhost\r\nX-Forwarded-Host: bob.localhost\r\nForwarded: host=bob.localhost\r\nAuthorization: Bearer ${tokens.alice}\r\nConnection: close\r\n\r\n`,
      `GET /api/whoami HTTP/1.0\r\nAuthorization: Bearer ${tokens.alice}\r\n\r\n`,
    ];
    for (const head of tricky) {
      const r = await rawRequest(proxyPort, head);
      assert.ok(r.status > 0, r.error);
      assert.notEqual(r.status, 401, head);
      if (r.status === 200) assert.equal((JSON.parse(r.body) as { user: string }).user, 'alice', head);
    }
    record(t, 'isolation.proxy', { hostHeaders: hosts.length + tricky.length, routedToOwner: routed, refused, crossed: 0 });
  });

  await t.test('the admin API and status page refuse every route without the token', async () => {
    const routes = adminRoutes(running.daemon.adminApp);
    const guarded = routes.filter((r) => r.access !== 'public');
    const admin = `http://127.0.0.1:${adminPort}`;
    // With the token a route answers, so the refusals below are about the token (wrong ones then block the address).
    const ok = await httpJson(`${admin}/api/status`, { headers: { authorization: `Bearer ${running.token}` } });
    assert.equal(ok.status, 200, ok.text);
    let requests = 0;
    for (const route of guarded) {
      const url = route.url.replace(':name', 'alice').replace(':id', 'x');
      for (const headers of [{}, { authorization: 'Bearer not-the-token' }, { cookie: 'ocm_session=forged' }] as Array<Record<string, string>>) {
        const r = await httpJson<{ code?: string }>(`${admin}${url}`, { method: route.method, headers });
        requests++;
        assert.ok(r.status === 401 || r.status === 429, `${route.method} ${route.url} ${JSON.stringify(headers)}: ${r.status} ${r.text.slice(0, 200)}`);
        if (route.method !== 'HEAD') assert.match(r.json?.code ?? '', /^OCM_E_(AUTH_REQUIRED|RATE_LIMITED)$/);
        assert.ok(!r.text.includes(tokens.alice) && !r.text.includes('bob'), 'nothing about users leaks');
      }
    }
    const page = await httpJson(`${admin}/`);
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('alice') && !page.text.includes(String(ports.alice)), 'the login page shows no users');
    const login = await httpJson(`${admin}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong' });
    assert.ok(login.status === 401 || login.status === 429 || login.status === 303, `POST /login: ${login.status}`);
    assert.ok(!(login.headers['set-cookie'] ?? []).some((c) => c.startsWith('ocm_session=') && !/ocm_session=;|Max-Age=0/i.test(c)), 'no session for a wrong token');
    record(t, 'isolation.admin', { routes: routes.length, guarded: guarded.length, refusedRequests: requests, publicRoutes: routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`) });
  });

  await t.test('a host service on 0.0.0.0 is refused by the network policy, and the gateways stay served', async (t) => {
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    // Docker's FORWARD rules do not cover traffic to the host itself; the policy's INPUT chain does.
    const policy = await run('iptables', ['-w', '-S', `OCM-${project}-IN`]);
    assert.equal(policy.code, 0, `the policy chain is installed: ${policy.stderr}`);
    const after = await connectFrom(c('alice'), [[nets.alice.gateway, port], [nets.bob.gateway, port], [nets.alice.gateway, adminPort]]);
    assert.ok(after.every(([, , o]) => o !== 'open'), `still reachable: ${JSON.stringify(after)}`);
    // Published ports and the proxy keep working: their replies are ESTABLISHED, not NEW.
    const health = await httpJson<{ ok: boolean }>(`http://127.0.0.1:${proxyPort}/healthz`, { headers: { host: 'bob.localhost' } });
    assert.equal(health.json?.ok, true);
    const direct = await httpJson<{ ok: boolean }>(`http://127.0.0.1:${ports.alice}/healthz`);
    assert.equal(direct.json?.ok, true);
    record(t, 'isolation.gap', { pool, wildcardListenerFromContainer: after.map(([, , o]) => o), fix: `ocm's policy chain OCM-${project}-IN (${policy.stdout.trim().split('\n').length - 1} rules): wildcard listener refused, gateways still served` });
  });

  assert.ok(existsSync(root));
});
