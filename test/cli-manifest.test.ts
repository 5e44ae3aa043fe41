// The manifest CLI end to end through bin/ocm: what an admin types and sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseManifest } from '@ocm/core';
import { OCM_BIN, ocm, snapshot, tempDir } from './helpers/cli.js';

async function initRoot(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const root = `${tempDir(t)}/root`;
  const r = await ocm(['init', '--domain', 'example.test'], { root });
  assert.equal(r.code, 0, r.stderr);
  return root;
}

function assertRefusal(r: { code: number; stdout: string; stderr: string }, message: RegExp | string): void {
  assert.notEqual(r.code, 0, 'non-zero exit');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `exactly error + hint, got:\n${r.stderr}`);
  assert.match(lines[0] as string, /^error: /);
  assert.match(lines[1] as string, /^hint: /);
  if (typeof message === 'string') assert.equal(lines[0], `error: ${message}`);
  else assert.match(lines[0] as string, message);
}

test('init, add, list, show, set, token, remove: the admin tour', async (t) => {
  const root = await initRoot(t);
  let r = await ocm(['add', 'alice', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^alice: http:\/\/alice\.example\.test:8080$/m);
  assert.ok(!r.stdout.includes(readFileSync(`${root}/users/alice/env`, 'utf8').match(/TOKEN=(.*)/)?.[1] as string), 'token not printed by add');
  r = await ocm(['add', 'bob', '--no-start', '--memory', '1g', '--cpus', '1.5', '--pids', '256', '--env', 'OPENAI_API_KEY=sk-secret-1'], { root });
  assert.equal(r.code, 0, r.stderr);

  r = await ocm(['list', '--json'], { root });
  const users = JSON.parse(r.stdout) as Array<{ name: string; port: number; memory: string; cpus: number; env: Record<string, string> }>;
  assert.deepEqual(users.map((u) => [u.name, u.port, u.memory, u.cpus]), [['alice', 18800, '2g', 2], ['bob', 18801, '1g', 1.5]]);
  assert.ok(!r.stdout.includes('sk-secret-1'), 'secrets masked in list');

  r = await ocm(['show', 'bob'], { root });
  assert.match(r.stdout, /limits: +1\.5 cpus, 1g memory, 256 pids/);

  // Env file 0600 with a 32-byte token; state/config 0700 owned by the gateway uid.
  const env = readFileSync(`${root}/users/bob/env`, 'utf8');
  const token = /^OPENCLAW_GATEWAY_TOKEN=([A-Za-z0-9_-]{43})$/m.exec(env)?.[1];
  assert.ok(token !== undefined, env);
  assert.equal(statSync(`${root}/users/bob/env`).mode & 0o777, 0o600);
  for (const d of ['state', 'config']) {
    const info = statSync(`${root}/users/bob/${d}`);
    assert.equal(info.mode & 0o777, 0o700);
    if (process.getuid?.() === 0) assert.equal(info.uid, 1000);
  }
  const cfg = JSON.parse(readFileSync(`${root}/users/bob/state/openclaw.json`, 'utf8')) as { gateway: { controlUi: { allowedOrigins: string[] }; trustedProxies: string[] } };
  assert.deepEqual(cfg.gateway.controlUi.allowedOrigins, ['http://bob.example.test:8080']);
  assert.deepEqual(cfg.gateway.trustedProxies, ['10.231.0.17']);

  r = await ocm(['token', 'bob'], { root });
  assert.equal(r.stdout.trim(), token);
  r = await ocm(['token', 'bob', '--rotate'], { root });
  assert.notEqual(r.stdout.trim(), token);
  assert.match(readFileSync(`${root}/users/bob/env`, 'utf8'), new RegExp(`TOKEN=${r.stdout.trim()}$`, 'm'));
  // Nobody of this root runs: like `add --no-start`, a rotation leaves the firewall alone.
  assert.doesNotMatch(r.stderr, /network policy/, r.stderr);

  const before = readFileSync(`${root}/docker-compose.yml`, 'utf8');
  r = await ocm(['set', 'alice', '--memory', '4g', '--env', 'TEAM=blue'], { root });
  assert.equal(r.code, 0, r.stderr);
  const after = readFileSync(`${root}/docker-compose.yml`, 'utf8');
  assert.notEqual(before, after);
  assert.match(after, /mem_limit: 4294967296/);

  r = await ocm(['remove', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(`${root}/users/alice/state`).isDirectory(), 'data kept');
  r = await ocm(['add', 'carol', '--no-start'], { root });
  assert.match(r.stderr, /127\.0\.0\.1:18800/, 'a freed port can be given to a new user');
  r = await ocm(['remove', 'carol', '--purge'], { root });
  assertRefusal(r, '--purge deletes carol\'s state, config and backups for good');
  r = await ocm(['remove', 'carol', '--purge', '--yes'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.throws(() => statSync(`${root}/users/carol`));

  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string });
  // The network policy's own lines (netpolicy.apply) come with the first start; this checks the edits.
  assert.deepEqual(audit.map((a) => a.action).filter((a) => !a.startsWith('netpolicy.')), ['root.init', 'user.add', 'user.add', 'token.rotate', 'user.set', 'user.remove', 'user.add', 'user.purge']);
  assert.ok(!readFileSync(`${root}/audit.log`, 'utf8').includes('sk-secret-1'), 'no secrets in the audit log');

  r = await ocm(['render', '--check'], { root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('every refusal is one error line plus a hint and leaves the root byte-identical', async (t) => {
  const root = await initRoot(t);
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
  const cases: Array<[string[], string | RegExp]> = [
    [['add', 'Alice'], 'user name "Alice" must start with a lowercase letter'],
    [['add', 'admin'], 'user name "admin" is reserved'],
    [['add', 'a'.repeat(33)], /is 33 characters long/],
    [['add', 'alice'], 'user "alice" already exists'],
    [['add', 'bob', '--memory', '2 gigs'], 'memory: "2 gigs" is not a size (use 512m or 2g)'],
    [['add', 'bob', '--cpus', 'lots'], 'cpus: "lots" must be a positive number of CPUs (use 0.5, 1 or 2)'],
    [['add', 'bob', '--env', 'OPENCLAW_GATEWAY_TOKEN=x'], 'env: OPENCLAW_GATEWAY_TOKEN is set by ocm and cannot be overridden'],
    [['add', 'bob', '--env', 'K=a$b'], 'env.K: value contains "$", which docker-compose would expand'],
    [['set', 'zed', '--memory', '1g'], 'no user named "zed"'],
    [['set', 'alice'], 'ocm set needs at least one change'],
    [['remove', 'zed'], 'no user named "zed"'],
    [['token', 'zed'], 'no user named "zed"'],
    [['init'], /ocm\.yaml already exists$/],
    [['add'], "missing required argument 'name'"],
    [['add', 'bob', '--bogus'], "unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    const before = snapshot(root);
    const r = await ocm(args, { root });
    assertRefusal(r, message);
    assert.deepEqual(snapshot(root), before, `root changed by: ocm ${args.join(' ')}`);
  }
  // A bad value gets a hint about the value, not the key's rules.
  const dollar = await ocm(['add', 'bob', '--env', 'K=a$b'], { root });
  assert.match(dollar.stderr, /^hint: docker-compose reads the value from an env file and would change it: leave that character out of the value$/m);
});

test('a malformed manifest is refused with its line, and nothing is written', async (t) => {
  const root = await initRoot(t);
  const text = readFileSync(`${root}/ocm.yaml`, 'utf8').replace('  limits:\n    cpus: 2\n    memory: 2g', '  limits:\n    cpus: 2\n    memory: 2 gigs');
  writeFileSync(`${root}/ocm.yaml`, text);
  const before = snapshot(root);
  const line = text.split('\n').findIndex((l) => l.includes('2 gigs')) + 1;
  for (const args of [['add', 'bob'], ['list'], ['render']]) {
    const r = await ocm(args, { root });
    assertRefusal(r, `ocm.yaml:${line}: settings.limits.memory: "2 gigs" is not a size (use 512m or 2g)`);
    assert.deepEqual(snapshot(root), before);
  }
});

test('a missing or unwritable root is a clear refusal', async (t) => {
  const dir = tempDir(t);
  let r = await ocm(['list'], { root: `${dir}/nope` });
  assertRefusal(r, `no ocm.yaml in ${dir}/nope`);
  r = await ocm(['add', 'bob'], { root: `${dir}/nope` });
  assertRefusal(r, `no ocm.yaml in ${dir}/nope`);
  r = await ocm(['list'], { root: 'relative dir with spaces' });
  assertRefusal(r, /^error: deployment root ".*relative dir with spaces" must be an absolute path/);

  const root = await initRoot(t);
  chmodSync(root, 0o755);
  chmodSync(`${root}/..`, 0o755);
  const before = snapshot(root);
  // As root every permission check passes, so drop to nobody the way a
  // mis-set deployment would look to a non-root admin.
  const prefix = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : undefined;
  r = await ocm(['add', 'bob', '--no-start'], { root, ...(prefix === undefined ? {} : { prefix }) });
  assertRefusal(r, /^error: (cannot write in .* \(EACCES\)|no ocm\.yaml in|cannot read ocm\.yaml)/);
  assert.deepEqual(snapshot(root), before);
});

test('20 concurrent `ocm add` give 20 users with distinct ports and a valid manifest', async (t) => {
  const root = await initRoot(t);
  const names = Array.from({ length: 20 }, (_, i) => `user-${i}`);
  const results = await Promise.all(names.map((n) => ocm(['add', n, '--no-start'], { root })));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  assert.deepEqual(manifest.users.map((u) => u.name).sort(), [...names].sort());
  const ports = manifest.users.map((u) => u.port);
  assert.equal(new Set(ports).size, 20);
  assert.deepEqual([...ports].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => 18800 + i));
  assert.equal((await ocm(['render', '--check'], { root })).code, 0);
});

test('render --check reports hand edits and render repairs them', async (t) => {
  const root = await initRoot(t);
  await ocm(['add', 'alice', '--no-start'], { root });
  writeFileSync(`${root}/ocm.yaml`, readFileSync(`${root}/ocm.yaml`, 'utf8').replace('    memory: 2g', '    memory: 3g'));
  writeFileSync(`${root}/nginx/alice.conf`, '# managed by ocm: edited by hand\n');
  let r = await ocm(['render', '--check'], { root });
  assert.equal(r.code, 1);
  assert.equal(r.stdout.trim(), 'differs docker-compose.yml\ndiffers nginx/alice.conf');
  assert.match(r.stderr, /^error: 2 rendered file\(s\) differ from ocm\.yaml$/m);
  r = await ocm(['render'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await ocm(['render', '--check'], { root })).code, 0);
  assert.equal((await ocm(['render'], { root })).stdout.trim(), 'files: up to date', 'idempotent');
});

test('output into a pipe closed early (ocm --help | head -c 1) ends quietly with status 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn('bash', ['-c', `"${process.execPath}" "${OCM_BIN}" --help | head -c 1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(stderr, 'status 0\n');
});
