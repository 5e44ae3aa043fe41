// The daemon's small parts on their own: failure limits, sessions, cookies,
// schema messages, listen addresses, the systemd unit, log redaction, the
// manifest watch and the health-driven route table (with a scripted probe).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseManifest, serializeManifest, validateManifest, type Manifest } from '@ocm/core';
import { StaticRouteTable } from '@ocm/proxy';
import {
  BackupJobs, FailureLimiter, GatewayRoutes, ManifestWatcher, SerialLane, SessionStore,
  createDaemonLogger, parseListen, renderSystemdUnit,
} from '@ocm/daemon';
import { readCookie, sessionCookie } from '../src/cookies.js';
import { validationError } from '../src/errors.js';
import { startBackupSchedule } from '../src/backup-schedule.js';

const quietLogger = (lines: string[] = []) => createDaemonLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });

test('FailureLimiter blocks an address after the limit, for the rest of the window only', () => {
  let now = 0;
  const limiter = new FailureLimiter({ limit: 3, windowMs: 1000, now: () => now, maxClients: 2 });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.blockedFor('a'), 0);
    limiter.fail('a');
  }
  now = 400;
  assert.equal(limiter.blockedFor('a'), 600);
  assert.equal(limiter.blockedFor('b'), 0);
  now = 1000;
  assert.equal(limiter.blockedFor('a'), 0);
  // Bounded memory: a flood of addresses forgets the oldest windows.
  for (const ip of ['c', 'd', 'e']) limiter.fail(ip);
  assert.equal(limiter.blockedFor('c'), 0);
});

test('SessionStore: random ids, expiry, a bounded number of sessions', () => {
  let now = 0;
  const store = new SessionStore({ ttlMs: 100, now: () => now, max: 2 });
  const a = store.create();
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.id, a.csrf);
  assert.equal(store.get(a.id), a);
  assert.equal(store.get('forged'), undefined);
  store.create();
  store.create();
  assert.equal(store.get(a.id), undefined, 'the oldest is dropped beyond max');
  const b = store.create();
  now = 200;
  assert.equal(store.get(b.id), undefined, 'expired');
});

test('cookies: read one by name, write the session cookie with its flags', () => {
  assert.equal(readCookie('a=1; ocm_session=xyz; b=2', 'ocm_session'), 'xyz');
  assert.equal(readCookie('ocm_sessionx=1', 'ocm_session'), undefined);
  assert.equal(readCookie(undefined, 'ocm_session'), undefined);
  assert.equal(sessionCookie('id', 60, false), 'ocm_session=id; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
  assert.match(sessionCookie('id', 60, true), /; Secure$/);
});

test('schema failures become OCM_E_USAGE naming the field', () => {
  const cases: Array<[string, Parameters<typeof validationError>[1], string]> = [
    ['body', [{ instancePath: '', keyword: 'required', params: { missingProperty: 'name' } }], 'body.name is required'],
    ['body', [{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' } }], 'body.x is not a known field'],
    ['body', [{ instancePath: '/env/A~1B', keyword: 'type', params: { type: 'string' } }], 'body.env.A/B must be string'],
    ['querystring', [{ instancePath: '/purge', keyword: 'enum', params: { allowedValues: ['true', 'false'] } }], 'querystring.purge must be one of "true", "false"'],
    ['body', [{ instancePath: '/name', keyword: 'maxLength', params: {}, message: 'must NOT have more than 64 characters' }], 'body.name must NOT have more than 64 characters'],
  ];
  for (const [context, issues, message] of cases) {
    const error = validationError(context, issues);
    assert.equal(error.code, 'OCM_E_USAGE');
    assert.equal(error.statusCode, 400);
    assert.equal(error.message, message);
  }
});

test('listen addresses as the manifest writes them', () => {
  assert.deepEqual(parseListen('127.0.0.1:7070', 'f'), { host: '127.0.0.1', port: 7070 });
  assert.deepEqual(parseListen(':8080', 'f'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseListen('*:80', 'f'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('[::1]:7070', 'f'), { host: '::1', port: 7070 });
  assert.throws(() => parseListen('7070', 'settings.admin.listen'), /settings\.admin\.listen: "7070" is not a listen address/);
});

test('the systemd unit: absolute ExecStart with --root, restart on failure, hardening', () => {
  const unit = renderSystemdUnit({ nodePath: '/usr/bin/node', ocmBin: '/opt/ocm-src/bin/ocm', root: '/srv/ocm' });
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/ocm-src\/bin\/ocm --root \/srv\/ocm daemon$/m);
  for (const line of ['Restart=on-failure', 'KillSignal=SIGTERM', 'NoNewPrivileges=yes', 'ProtectSystem=full', 'PrivateTmp=yes', 'WantedBy=multi-user.target', 'After=network-online.target docker.service']) {
    assert.ok(unit.split('\n').includes(line), `missing ${line}`);
  }
  assert.ok(!/^User=/m.test(unit));
  // ProtectSystem=strict would make nginx -t fail on its logs and PrivateNetwork would cut the proxy off.
  assert.ok(!/ProtectSystem=strict|PrivateNetwork|MemoryDenyWriteExecute/.test(unit));
  const asUser = renderSystemdUnit({ nodePath: '/usr/bin/node', ocmBin: '/opt/ocm-src/bin/ocm', root: '/srv/ocm', user: 'ocm' });
  assert.match(asUser, /^User=ocm$/m);
  assert.match(asUser, /^SupplementaryGroups=docker$/m);
  assert.throws(() => renderSystemdUnit({ nodePath: '/usr/bin/node', ocmBin: '/opt/ocm src/bin/ocm', root: '/srv/ocm' }), /cannot be written into a unit file/);
  assert.throws(() => renderSystemdUnit({ nodePath: '/usr/bin/node', ocmBin: '/x/bin/ocm', root: '/srv/ocm', user: 'Bad User' }), /is not a user name/);
});

test('the log never shows authorization headers, cookies or tokens', () => {
  const lines: string[] = [];
  const logger = quietLogger(lines);
  logger.child({ component: 'admin' }).info({ req: { headers: { authorization: 'Bearer s3cret', cookie: 'ocm_session=abc' } }, token: 'tok-1', user: { token: 'tok-2' } }, 'x');
  const text = lines.join('');
  for (const secret of ['s3cret', 'abc', 'tok-1', 'tok-2']) assert.ok(!text.includes(secret), secret);
  assert.match(text, /"component":"admin"/);
  assert.match(text, /\[redacted\]/);
});

test('SerialLane runs tasks one at a time, in order, also after a failure', async () => {
  const lane = new SerialLane();
  const order: string[] = [];
  const task = (name: string, fail = false) => lane.run(async () => {
    order.push(`${name}>`);
    await new Promise((r) => setTimeout(r, 5));
    order.push(`<${name}`);
    if (fail) throw new Error(name);
    return name;
  });
  const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
  assert.deepEqual(order, ['a>', '<a', 'b>', '<b', 'c>', '<c']);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
});

test('BackupJobs: queued, then done or failed with the error kept', async () => {
  const jobs = new BackupJobs({
    lane: new SerialLane(),
    run: async (names) => {
      if (names.includes('boom')) throw new Error('disk full');
      return names.map((user) => ({ user, ok: user !== 'bad', time: new Date(0).toISOString(), attempts: 1 }));
    },
  });
  const ok = jobs.start(['alice']);
  const partial = jobs.start(['alice', 'bad']);
  const crashed = jobs.start(['boom']);
  assert.equal(ok.state, 'queued');
  await jobs.settle();
  assert.equal(jobs.get(ok.id)?.state, 'done');
  assert.equal(jobs.get(partial.id)?.state, 'failed');
  assert.deepEqual(jobs.get(crashed.id)?.error, { code: 'OCM_E_BACKUP_FAILED', message: 'disk full' });
  assert.ok(jobs.get(crashed.id)?.finishedAt !== undefined);
});

test('the nightly schedule hands every user to one scheduled run, in the lane', async () => {
  const manifest = manifestWith([{ name: 'alice', port: 18801 }, { name: 'bob', port: 18802 }]);
  const calls: Array<[readonly string[], { scheduled?: boolean; retryDelayMs?: number } | undefined]> = [];
  const lane = new SerialLane();
  const scheduler = startBackupSchedule({
    manifest, lane, logger: quietLogger(), schedule: () => ({ stop: () => undefined }), retryDelayMs: 500,
    run: async (names, options) => {
      calls.push([names, options]);
      return ['alice', 'bob'].map((user) => ({ user, ok: user === 'alice', time: new Date(0).toISOString(), attempts: user === 'alice' ? 1 : 2, ...(user === 'bob' ? { error: { code: 'OCM_E_BACKUP_FAILED', message: 'disk full' } } : {}) }));
    },
  });
  assert.equal(await scheduler.runNow(), true);
  await scheduler.stop();
  assert.deepEqual(calls, [[[], { scheduled: true, retryDelayMs: 500 }]]);
});

function manifestWith(users: Array<{ name: string; port: number; enabled?: boolean }>): Manifest {
  return validateManifest({ users: users.map((u) => ({ enabled: true, ...u })) });
}

test('GatewayRoutes: up on a good /healthz, down at once when refused, down when disabled', async () => {
  let now = 1_000_000;
  const answers = new Map<number, { ok: boolean; detail: string }>([[18801, { ok: true, detail: 'HTTP 200 ok' }], [18802, { ok: false, detail: 'ECONNREFUSED' }]]);
  const table = new StaticRouteTable();
  const routes = new GatewayRoutes({ table, logger: quietLogger(), intervalMs: 1000, now: () => now, probe: async (port) => answers.get(port) ?? { ok: false, detail: 'ECONNREFUSED' } });
  routes.update(manifestWith([{ name: 'alice', port: 18801 }, { name: 'bob', port: 18802 }, { name: 'carol', port: 18803, enabled: false }]));
  assert.equal(table.resolve('alice.localhost')?.state, 'down', 'nothing is up before a probe answered');
  await routes.refresh(true);
  assert.deepEqual(Object.fromEntries(routes.states()), { alice: 'up', bob: 'down', carol: 'down' });
  assert.deepEqual(table.resolve('alice.localhost'), { user: 'alice', port: 18801, upstreamHost: '127.0.0.1', state: 'up' });
  // A slow answer is not yet a verdict: alice stays up within the grace period...
  answers.set(18801, { ok: false, detail: 'ETIMEDOUT' });
  now += 1500;
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'up');
  // ...but not forever, and a refused connection is down at once.
  now += 2000;
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'down');
  answers.set(18801, { ok: true, detail: 'ok' });
  await routes.refresh(true);
  answers.set(18801, { ok: false, detail: 'ECONNREFUSED' });
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'down');
  // Removed users disappear from the table.
  routes.update(manifestWith([{ name: 'bob', port: 18802 }]));
  assert.equal(table.resolve('alice.localhost'), undefined);
  await routes.stop();
});

test('GatewayRoutes: a gateway that answers proxied requests stays up though its probes time out', async () => {
  let now = 1_000_000;
  let answer = { ok: true, detail: 'HTTP 200 ok' };
  const table = new StaticRouteTable();
  const routes = new GatewayRoutes({ table, logger: quietLogger(), intervalMs: 1000, now: () => now, probe: async () => answer });
  routes.update(manifestWith([{ name: 'alice', port: 18801 }]));
  await routes.refresh(true);
  answer = { ok: false, detail: 'ETIMEDOUT' };
  // Busy: every probe times out, but the proxy keeps seeing alice answer.
  for (let i = 0; i < 10; i++) {
    now += 1000;
    routes.served('alice');
    await routes.refresh(true);
    assert.equal(routes.states().get('alice'), 'up', `round ${i}`);
  }
  // Once nothing answers any more, the grace runs out as before...
  now += 3500;
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'down');
  // ...and a refused connection is down at once, whatever was served before or after.
  routes.served('alice');
  answer = { ok: false, detail: 'ECONNREFUSED' };
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'down');
  routes.served('alice');
  await routes.refresh(true);
  assert.equal(routes.states().get('alice'), 'down');
  routes.served('nobody');
  await routes.stop();
});

test('ManifestWatcher: a temp+rename write is seen at once; a broken file is logged and ignored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ocm.yaml');
  const write = (text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  const first = serializeManifest(manifestWith([]));
  writeFileSync(path, first);
  const seen: Manifest[] = [];
  const lines: string[] = [];
  const watcher = new ManifestWatcher({ dir, logger: quietLogger(lines), initialText: first, onChange: (m) => void seen.push(m), pollMs: 5000 });
  watcher.start();
  t.after(() => watcher.stop());
  const waitSeen = async (n: number) => {
    for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };

  const started = Date.now();
  write(serializeManifest(manifestWith([{ name: 'alice', port: 18800 }])));
  await waitSeen(1);
  assert.equal(seen.length, 1, 'seen through fs.watch, long before the 5 s poll');
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(seen[0]?.users.map((u) => u.name), ['alice']);

  write('users: [oops\n');
  await watcher.check();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seen.length, 1);
  assert.match(lines.join(''), /does not parse; keeping the previous manifest/);

  // Unchanged content (a rewrite with the same bytes) is not a change.
  write(readFileSync(path, 'utf8'));
  write(serializeManifest(parseManifest(serializeManifest(manifestWith([{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }])))));
  await waitSeen(2);
  assert.deepEqual(seen.map((m) => m.users.length), [1, 2]);
});
