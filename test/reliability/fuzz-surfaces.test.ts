// Bad input through the real front doors: admin API bodies, queries and raw
// payloads through the daemon's fastify app (inject), and arguments and
// hostile ocm.yaml files through bin/ocm. Every refusal is a coded one-line
// error that leaves the root byte-identical; nothing answers 500, crashes
// or hangs; whatever is accepted leaves a root that still parses and renders.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  RESERVED_ENV_KEYS, RESERVED_NAMES, assertEnvEntry, assertUserName, parseCpus, parsePids, parseSize,
} from '@ocm/core';
import { DockerEngine } from '@ocm/engine';
import { DeploymentRoot } from '@ocm/store';
import { BackupJobs, SerialLane, buildAdminApp, createDaemonLogger } from '@ocm/daemon';
import { ocm, snapshot } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { ocmSettled } from './support/kill.js';
import { record } from './support/record.js';

const same = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
/** The root as ocm writes it: what running gateways write below users/<name>/state is theirs. */
const ocmFiles = (root: string): Map<string, string> => new Map([...snapshot(root)].filter(([k]) => !/^users\/[^/]+\/state\/./.test(k)));
const valid = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

const anyValue = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
const nameArb = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/).filter((n) => !RESERVED_NAMES.has(n)), fc.string({ maxLength: 70 }), fc.constantFrom(...RESERVED_NAMES, 'Alice', 'a--b', '', 'x'.repeat(64), 'x'.repeat(65), '../x', 'a/b', '%2e%2e'));
const limitArb = {
  cpus: fc.oneof(fc.constantFrom(0.5, 1, '2', '0.25'), fc.double(), fc.string({ maxLength: 6 }), anyValue),
  memory: fc.oneof(fc.constantFrom('256m', '1g'), fc.string({ maxLength: 40 }), anyValue),
  pids: fc.oneof(fc.constantFrom(64, '128'), fc.integer(), fc.string({ maxLength: 6 }), anyValue),
};
const envArb = fc.oneof(
  fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 8 }), fc.constantFrom(...RESERVED_ENV_KEYS, '__proto__')), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a\nb', '$X', ' x', 'x #y')), { maxKeys: 3 }),
  anyValue,
);
const bodyArb = fc.record({ name: nameArb, ...limitArb, env: envArb, start: fc.oneof(fc.boolean(), anyValue), unsetEnv: fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), anyValue), enabled: fc.oneof(fc.boolean(), anyValue), extra: anyValue }, { requiredKeys: [] });

/** Would ops accept these fields? (Then the fuzzer must not let the API start a container.) */
function fieldsValid(b: Record<string, unknown>): boolean {
  if ('cpus' in b && !valid(() => parseCpus(b.cpus as string))) return false;
  if ('memory' in b && !(typeof b.memory === 'string' && valid(() => parseSize(b.memory as string)))) return false;
  if ('pids' in b && !valid(() => parsePids(b.pids as string))) return false;
  if ('env' in b) {
    if (typeof b.env !== 'object' || b.env === null || Array.isArray(b.env)) return false;
    for (const [k, v] of Object.entries(b.env)) if (typeof v !== 'string' || !valid(() => assertEnvEntry(k, v))) return false;
  }
  return true;
}

test('admin API: bodies, queries and raw payloads', { timeout: 300_000 }, async (t) => {
  // A root of its own (project, ports, subnet pool), so nothing here can meet another deployment on this host.
  const { root } = await testRoot(t);
  assert.equal((await ocm(['add', 'alice', '--no-start', '--env', 'KEEP=1'], { root })).code, 0);
  const token = readFileSync(`${root}/admin.token`, 'utf8').trim();
  const logs: string[] = [];
  const logger = createDaemonLogger({ level: 'warn', destination: { write: (line: string) => void logs.push(line) } });
  const app = await buildAdminApp({ root: new DeploymentRoot(root), engine: new DockerEngine(), adminToken: token, logger, jobs: new BackupJobs({ lane: new SerialLane(), run: async () => [] }), requestsPerMinute: 1_000_000 });
  t.after(() => app.close());
  let ip = 0;
  const nextIp = (): string => `10.88.${Math.floor(++ip / 250) % 250}.${(ip % 250) + 1}`;
  const tally = { requests: 0, accepted: 0, refused: 0, byStatus: {} as Record<number, number> };
  const shapeViolations: string[] = [];
  let before = ocmFiles(root);

  type Req = { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: string | Buffer; contentType?: string; auth?: boolean };
  const send = async (req: Req): Promise<void> => {
    const t0 = Date.now();
    const r = await app.inject({
      method: req.method, url: req.url, remoteAddress: nextIp(),
      headers: { ...(req.auth === false ? {} : { authorization: `Bearer ${token}` }), ...(req.contentType === undefined ? {} : { 'content-type': req.contentType }) },
      ...(req.payload === undefined ? {} : { payload: req.payload }),
    });
    tally.requests++;
    tally.byStatus[r.statusCode] = (tally.byStatus[r.statusCode] ?? 0) + 1;
    const what = `${req.method} ${req.url} ${String(req.payload ?? '').slice(0, 200)}`;
    assert.ok(Date.now() - t0 < 30_000, `${what} took ${Date.now() - t0} ms`);
    assert.ok(r.statusCode < 500, `${what}: ${r.statusCode} ${r.body.slice(0, 300)}`);
    if (r.statusCode >= 400) {
      tally.refused++;
      const body = JSON.parse(r.body) as { code?: string; message?: string; hint?: string };
      if (!/^OCM_E_[A-Z_]+$/.test(body.code ?? '') || (body.hint ?? '') === '') shapeViolations.push(`${req.method} ${req.url.slice(0, 60)}: ${r.body.slice(0, 120)}`);
      assert.ok((body.message ?? '').length > 0 && !/[\r\n]/.test(body.message ?? ''), `${what}: message ${JSON.stringify(body.message)}`);
      const after = ocmFiles(root);
      const diff = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
      assert.deepEqual(diff, [], `${what}: refused (${r.statusCode}: ${r.body.slice(0, 200)}) but the root changed: ${diff.map((k) => `${k}: ${before.get(k) ?? '-'} -> ${after.get(k) ?? '-'}`).join('; ')}`);
    } else {
      tally.accepted++;
      before = ocmFiles(root);
    }
  };

  const users = new Set(['alice']);
  await fc.assert(fc.asyncProperty(bodyArb, fc.constantFrom('add', 'set', 'delete', 'logs', 'backup', 'backups', 'job', 'show'), fc.string({ maxLength: 12 }), async (body, route, q) => {
    const b = { ...body } as Record<string, unknown>;
    const name = typeof b.name === 'string' ? b.name : 'alice';
    const enc = encodeURIComponent(name);
    switch (route) {
      case 'add': {
        // A body ops would accept must not start a container here.
        if (typeof b.name === 'string' && valid(() => assertUserName(b.name as string)) && fieldsValid(b)) b.start = false;
        delete b.unsetEnv;
        delete b.enabled;
        await send({ method: 'POST', url: '/api/users', payload: JSON.stringify(b), contentType: 'application/json' });
        if (typeof b.name === 'string' && valid(() => assertUserName(b.name as string))) users.add(b.name);
        break;
      }
      case 'set': {
        delete b.name;
        delete b.start;
        // Only alice exists with no container; a fully valid edit of her would start one, so aim it at nobody.
        const target = fieldsValid(b) && Object.keys(b).length > 0 && !('extra' in b) ? 'nobody-here' : 'alice';
        await send({ method: 'PATCH', url: `/api/users/${target}`, payload: JSON.stringify(b), contentType: 'application/json' });
        break;
      }
      case 'delete':
        await send({ method: 'DELETE', url: `/api/users/${users.has(name) ? 'not-a-user' : enc}?${q.includes('=') ? q : `purge=${q}`}` });
        break;
      case 'logs':
        await send({ method: 'GET', url: `/api/users/${users.has(name) ? 'not-a-user' : enc}/logs?tail=${encodeURIComponent(q)}` });
        break;
      case 'backup':
        await send({ method: 'POST', url: '/api/backups', payload: JSON.stringify({ names: [name].filter((n) => !users.has(n)), ...(b.extra === undefined ? {} : { extra: b.extra }) }), contentType: 'application/json' });
        break;
      case 'backups':
        await send({ method: 'GET', url: `/api/backups?name=${enc}` });
        break;
      case 'job':
        await send({ method: 'GET', url: `/api/backups/jobs/${enc}` });
        break;
      case 'show':
        await send({ method: 'GET', url: `/api/users/${enc}` });
        break;
    }
  }), { numRuns: 1200, seed: 31337 });

  // Raw payloads: broken JSON, wrong types, huge and deep bodies, prototype keys, odd content types.
  const raws: Array<[string, string | Buffer]> = [
    ['application/json', '{'], ['application/json', '"x"'], ['application/json', 'null'], ['application/json', '[]'], ['application/json', '1e999'],
    ['application/json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`], ['application/json', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`],
    ['application/json', JSON.stringify({ name: 'x'.repeat(300_000) })], ['application/json', '{"__proto__":{"admin":true},"name":"zz","start":false}'],
    ['application/json', '{"constructor":{"prototype":{"x":1}},"name":"zz","start":false}'], ['application/json', '{"name":"zz","name":"yy","start":false}'],
    ['application/json', Buffer.from([0xff, 0xfe, 0x00, 0x7b])], ['text/plain', 'name=zz'], ['application/x-www-form-urlencoded', 'name=Z!&start=1'],
    ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'], ['application/json; charset=utf-16', '{}'], ['', '{}'],
  ];
  for (const [contentType, payload] of raws) {
    await send({ method: 'POST', url: '/api/users', payload, contentType });
    await send({ method: 'PATCH', url: '/api/users/alice', payload, contentType });
  }
  for (const url of ['/api/users/%', '/api/users/%00', '/api/users/a%2Fb', `/api/users/${'a'.repeat(5000)}`, '/api/users/alice/logs?tail=99999999', '/api/users/alice/logs?tail=-1', '/api/backups?name[]=a', '/api/backups/jobs/..%2f..']) {
    await send({ method: 'GET', url });
  }
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'prototype pollution');

  // What was accepted left a root that parses and renders.
  const list = await ocm(['list', '--json'], { root });
  assert.equal(list.code, 0, list.stderr);
  const check = await ocm(['render', '--check'], { root });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.ok(!logs.join('').includes(token), 'the admin token reached the log');
  record(t, 'fuzz.api', { ...tally, usersAdded: (JSON.parse(list.stdout) as unknown[]).length - 1, notOcmShaped: shapeViolations });
  assert.ok(tally.requests >= 1200);
  await t.test('every error answer is {code: OCM_E_..., message, hint}', () => {
    assert.deepEqual(shapeViolations, []);
  });
});

test('CLI: random arguments and hostile ocm.yaml files through bin/ocm', { timeout: 600_000 }, async (t) => {
  const ROOTS = 4;
  const roots: string[] = [];
  for (let i = 0; i < ROOTS; i++) {
    const { root } = await testRoot(t);
    assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
    roots.push(root);
  }
  const tally = { runs: 0, refused: 0, accepted: 0 };
  const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('512m', '2 gigs', '0', '-1', '1e9', '0.5', '1.234', 'NaN', '', '--help', '-x', 'a\nb', '$(id)', '`id`', '; rm -rf /', '%s%s', 'é'));
  const argsArb = fc.oneof(
    fc.tuple(nameArb, fc.array(fc.tuple(fc.constantFrom('--memory', '--cpus', '--pids', '--env'), text), { maxLength: 3 })).map(([n, opts]) => ['add', n, '--no-start', ...opts.flat()]),
    fc.tuple(fc.constantFrom('alice', 'nobody'), fc.array(fc.tuple(fc.constantFrom('--memory', '--cpus', '--pids', '--env', '--unset-env'), text), { minLength: 1, maxLength: 3 })).map(([n, opts]) => ['set', n, ...opts.flat()]),
    fc.tuple(fc.constantFrom('show', 'token', 'remove', 'logs', 'backups', 'restore'), nameArb).map(([c, n]) => [c, n]),
    fc.array(text, { minLength: 1, maxLength: 3 }),
  );
  const cases = fc.sample(argsArb, { numRuns: 40, seed: 2026 });
  const hostile = [
    `x: &x 1\nusers: [${Array(150).fill('*x').join(', ')}]\n`,
    `settings: ${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    `users: []\n#${'x'.repeat(1024 * 1024)}`,
    'settings: !!js/function "function(){}"\n',
    'settings:\n  domain: "evil.com;\\n include /etc/passwd"\n',
    'users:\n  - name: alice\n    port: 18800\n    env: {A: "x\\ny"}\n',
    'users:\n  - name: "alice\\nbob"\n    port: 18800\n',
    'users:\n  - {name: alice, port: 18800}\n  - {name: alice, port: 18801}\n',
    '- just\n- a list\n',
    'settings:\n  labels:\n    ocm.managed: "0"\n',
  ];
  const one = async (root: string, args: string[], expectRefusal: boolean): Promise<void> => {
    const before = snapshot(root);
    const t0 = Date.now();
    const r = await ocmSettled(args, { root });
    tally.runs++;
    const what = `ocm ${JSON.stringify(args)}`;
    assert.ok(Date.now() - t0 < 60_000, `${what} took ${Date.now() - t0} ms`);
    assert.ok(!/^\s+at .*\(.*:\d+:\d+\)$/m.test(r.stderr), `${what}: a stack trace\n${r.stderr}`);
    if (r.code !== 0) {
      tally.refused++;
      const lines = r.stderr.trim().split('\n');
      // commander's own usage errors are "error: ..." too; ocm adds "hint: ...".
      assert.match(lines[0] ?? '', /^error: \S/, `${what}: ${r.stderr}`);
      assert.ok(lines.length <= 3, `${what}: ${lines.length} lines of stderr\n${r.stderr.slice(0, 500)}`);
      assert.ok(same(before, snapshot(root)), `${what}: refused but the root changed`);
    } else {
      assert.ok(!expectRefusal, `${what} accepted a hostile manifest`);
      tally.accepted++;
      const check = await ocm(['render', '--check'], { root });
      assert.equal(check.code, 0, `${what} left files that differ from ocm.yaml: ${check.stdout}`);
    }
  };
  await Promise.all(roots.map(async (root, i) => {
    for (let n = i; n < cases.length; n += ROOTS) await one(root, cases[n] as string[], false);
  }));
  // Hostile files by hand: every command that reads ocm.yaml refuses them cleanly.
  const root = roots[0] as string;
  const good = readFileSync(`${root}/ocm.yaml`);
  for (const [i, text] of hostile.entries()) {
    writeFileSync(`${root}/ocm.yaml`, text);
    for (const args of [['list'], ['render'], ['add', `h${i}`, '--no-start']]) await one(root, args, true);
  }
  writeFileSync(`${root}/ocm.yaml`, good);
  record(t, 'fuzz.cli', { ...tally, hostileFiles: hostile.length });
});
