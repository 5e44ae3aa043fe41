// `ocm export` / `ocm import` between two roots on this host, through bin/ocm
// and the fixture gateway: the user, her entry and her state move, secrets and
// the token do not; hostile or broken files are refused with the target root
// unchanged; a failure after the add takes everything back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeBundle } from '@ocm/backup';
import { meterKey, parseManifest, serializeManifest, type Manifest } from '@ocm/core';
import { craftArchive } from '../packages/backup/test/helpers.js';
import { getDocker } from './support/docker.js';
import { OCM_BIN, ocm, snapshot, tempDir, type CliResult } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();

function members(file: string): string[] {
  const r = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

function member(file: string, name: string): Buffer {
  const r = spawnSync('tar', ['-xOf', file, name], { maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** The root as the next command would see it (what a refusal must leave alone). */
function rootView(root: string): Map<string, string> {
  const all = snapshot(root);
  // The audit log records the refusal; the running fixture writes its own state.
  for (const key of [...all.keys()]) if (key === 'audit.log' || /^users\/[^/]+\/state\//.test(key)) all.delete(key);
  return all;
}

async function containersOf(root: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`ocm.root=${root}`] }) });
  return list.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
}

async function networksOf(root: string): Promise<string[]> {
  return (await docker.listNetworks({ filters: JSON.stringify({ label: [`ocm.root=${root}`] }) })).map((n) => n.Name).sort();
}

/** Edits ocm.yaml as an admin would by hand; the next command renders it. */
function editManifest(root: string, edit: (m: Manifest) => void): void {
  const m = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  edit(m);
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(m));
}

const PROVIDER = { api: 'openai-completions' as const, baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-admin-of-this-root-0123456789', models: ['gpt-5'], prices: {} };

type Providers = Record<string, { baseUrl?: string; apiKey?: string }>;
const providersIn = (root: string, name: string): Providers =>
  (JSON.parse(readFileSync(`${root}/users/${name}/state/openclaw.json`, 'utf8')) as { models?: { providers?: Providers } }).models?.providers ?? {};

/** Runs a shell pipeline of bin/ocm commands (`ocm` in it is the built CLI). */
function shell(script: string): { status: number | null; stdout: string; stderr: string } {
  const ocmCmd = `"${process.execPath}" "${OCM_BIN}"`;
  return spawnSync('sh', ['-c', script.replaceAll('ocm ', `${ocmCmd} `)], { encoding: 'utf8', env: { ...process.env, OCM_ROOT: '' } });
}

const auditLines = (root: string): string[] => readFileSync(`${root}/audit.log`, 'utf8').split('\n').filter(Boolean);

const refusedWith = (r: CliResult, pattern: RegExp): void => {
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, r.stderr);
};

test('export and import between two roots: entry, limits, group and state move; env values, the token and the source meter do not', async (t) => {
  const a = await testRoot(t);
  const b = await testRoot(t);
  const dir = tempDir(t);
  let r = await ocm(['add', 'alice', '--memory', '256m', '--cpus', '0.5', '--env', 'OCM_TEST_SECRET=s3cret-value'], { root: a.root });
  assert.equal(r.code, 0, r.stderr);
  // Root A meters models, and alice shares the "family" budget there.
  editManifest(a.root, (m) => {
    m.settings.models = { listenPort: 18790, providers: { openai: PROVIDER }, groups: { family: { daily: 5, members: ['alice'] } } };
  });
  assert.equal((await ocm(['set', 'alice', '--daily-budget', '1.5', '--allow', '192.0.2.7:8123'], { root: a.root })).code, 0);
  // A provider alice set up herself, beside the one root A's meter gave her.
  const ownProvider = { baseUrl: 'https://llm.example.test/v1', apiKey: 'sk-alices-own', api: 'openai-completions', models: [{ id: 'm', name: 'm' }] };
  const configA = `${a.root}/users/alice/state/openclaw.json`;
  const docA = JSON.parse(readFileSync(configA, 'utf8')) as { models: { providers: Record<string, unknown> } };
  assert.equal((docA.models.providers.openai as { apiKey: string }).apiKey, meterKey(readFileSync(`${a.root}/meter.secret`, 'utf8').trim(), 'alice'), 'root A meters alice');
  docA.models.providers.mine = ownProvider;
  writeFileSync(configA, JSON.stringify(docA, null, 2));
  chownSync(configA, 1000, 1000);
  const note = `${a.root}/users/alice/state/workspace/note.txt`;
  mkdirSync(`${a.root}/users/alice/state/workspace`, { recursive: true });
  writeFileSync(note, 'remember the milk\n');
  chownSync(`${a.root}/users/alice/state/workspace`, 1000, 1000);
  chownSync(note, 1000, 1000);
  const tokenA = (await ocm(['token', 'alice'], { root: a.root })).stdout.trim();

  const file = `${dir}/alice.ocm-export.tar`;
  r = await ocm(['export', 'alice', '-o', file], { root: a.root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), file);
  assert.match(r.stderr, /the values of OCM_TEST_SECRET were not exported/);
  assert.doesNotMatch(r.stderr, /archiving|pausing/, 'no progress lines without a terminal');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(members(file), ['ocm-export.json', 'state.tar.gz']);
  const meta = JSON.parse(member(file, 'ocm-export.json').toString('utf8')) as { version: number; user: Record<string, unknown>; payload: { sha256: string } };
  assert.equal(meta.version, 1);
  const gatewayA = (JSON.parse(readFileSync(configA, 'utf8')) as { gateway: { controlUi: { allowedOrigins: string[] }; trustedProxies: string[] } }).gateway;
  assert.deepEqual(meta.user, {
    name: 'alice', enabled: true, cpus: 0.5, memory: '256m', egress: { allow: ['192.0.2.7:8123'] }, budget: { daily: 1.5 }, envKeys: ['OCM_TEST_SECRET'], group: 'family',
    sourceGateway: { allowedOrigins: gatewayA.controlUi.allowedOrigins, trustedProxies: gatewayA.trustedProxies },
  });
  assert.equal(createHash('sha256').update(member(file, 'state.tar.gz')).digest('hex'), meta.payload.sha256);
  const whole = readFileSync(file).toString('latin1');
  assert.ok(!whole.includes('s3cret-value'), 'env values stay behind');
  assert.ok(!whole.includes(tokenA), 'the gateway token stays behind');
  const payloadList = spawnSync('tar', ['-tz'], { input: member(file, 'state.tar.gz'), encoding: 'utf8' }).stdout;
  assert.match(payloadList, /^state\/workspace\/note\.txt$/m);
  assert.ok(!/^state\/tmp\//m.test(payloadList), 'runtime files never travel');
  assert.deepEqual(await containersOf(a.root), [`${a.project}-alice`], 'alice runs on in root A');
  assert.equal((await docker.getContainer(`${a.project}-alice`).inspect()).State.Running, true);
  assert.ok(!readFileSync(`${a.root}/audit.log`, 'utf8').includes('"user.remove"'));
  const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${OCM_BIN}" --root "${a.root}" export alice -o - > "${dir}/piped.tar"`], { encoding: 'utf8', env: { ...process.env, OCM_ROOT: '' } });
  assert.equal(piped.status, 0, piped.stderr);
  assert.deepEqual(members(`${dir}/piped.tar`), ['ocm-export.json', 'state.tar.gz'], '-o - writes the same file to stdout');

  const auditBefore = auditLines(b.root).length;
  r = await ocm(['import', file], { root: b.root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /imported alice on 127\.0\.0\.1:\d+/);
  assert.match(r.stderr, /--env OCM_TEST_SECRET=\.\.\./);
  assert.match(r.stderr, /^note: this root has no model group "family" \(alice's at the source\); alice keeps their own budget, with no group budget$/m);
  assert.deepEqual(auditLines(b.root).slice(auditBefore).map((l) => (JSON.parse(l) as { action: string }).action).filter((x) => x !== 'netpolicy.apply'), ['user.import'], 'one line for the import, its start included (and the firewall\'s own for her network)');
  const shown = JSON.parse((await ocm(['show', 'alice', '--json'], { root: b.root })).stdout) as { port: number; memory: string; cpus: number; env: Record<string, string> };
  assert.equal(shown.port, b.portBase, 'a port of root B');
  assert.equal(shown.memory, '256m');
  assert.equal(shown.cpus, 0.5);
  assert.deepEqual(shown.env, {});
  const yaml = readFileSync(`${b.root}/ocm.yaml`, 'utf8');
  assert.match(yaml, /budget:\n\s+daily: 1\.5/);
  assert.match(yaml, /192\.0\.2\.7:8123/);
  const moved = `${b.root}/users/alice/state/workspace/note.txt`;
  assert.equal(readFileSync(moved, 'utf8'), 'remember the milk\n');
  assert.equal(statSync(moved).uid, 1000);
  assert.equal(statSync(`${b.root}/users/alice/state`).mode & 0o777, 0o700);
  const tokenB = (await ocm(['token', 'alice'], { root: b.root })).stdout.trim();
  assert.notEqual(tokenB, tokenA, 'a new token in root B');
  assert.equal((await docker.getContainer(`${b.project}-alice`).inspect()).State.Running, true);
  const health = await fetch(`http://127.0.0.1:${b.portBase}/healthz`);
  assert.equal(health.status, 200);
  const config = readFileSync(`${b.root}/users/alice/state/openclaw.json`, 'utf8');
  assert.match(config, new RegExp(b.pool.split('.').slice(0, 2).join('\\.')), "root B's proxy address is merged into the restored config");
  assert.ok(!config.includes('ocm-meter-'), 'root B meters no models: no meter entry of root A is left');
  const gatewayB = (JSON.parse(config) as { gateway: { controlUi: { allowedOrigins: string[] }; trustedProxies: string[] } }).gateway;
  for (const origin of gatewayA.controlUi.allowedOrigins) assert.ok(!gatewayB.controlUi.allowedOrigins.includes(origin), `root A's origin ${origin} is allowed no more`);
  for (const proxy of gatewayA.trustedProxies) assert.ok(!gatewayB.trustedProxies.includes(proxy), `root A's bridge address ${proxy} is trusted no more`);
  assert.equal(gatewayB.trustedProxies.length, 1, "only root B's bridge address");
  assert.deepEqual(providersIn(b.root, 'alice'), { mine: ownProvider }, "alice's own provider stays");
  const poolB = b.pool.split('.').slice(0, 2).join('.');

  await t.test('through a pipe: ocm export -o - | ocm import -', () => {
    const piped = shell(`ocm --root "${a.root}" export alice -o - | ocm --root "${b.root}" import - --name alice3 --no-start`);
    assert.equal(piped.status, 0, piped.stderr);
    assert.match(piped.stderr, /imported alice3 \(exported as alice\)/);
    assert.equal(readFileSync(`${b.root}/users/alice3/state/workspace/note.txt`, 'utf8'), 'remember the milk\n');
    assert.equal(shell(`ocm --root "${b.root}" remove alice3 --purge --yes`).status, 0);
  });

  await t.test('from a pipe that carries no export: refused as stdin, root B unchanged', () => {
    const before = rootView(b.root);
    const audit = readFileSync(`${b.root}/audit.log`, 'utf8');
    const piped = shell(`printf 'hello\\n' | ocm --root "${b.root}" import -`);
    assert.notEqual(piped.status, 0);
    assert.match(piped.stderr, /^error: stdin: (is empty or not a tar file|is not a readable export)/m);
    assert.deepEqual(rootView(b.root), before);
    assert.equal(readFileSync(`${b.root}/audit.log`, 'utf8'), audit, 'a refusal writes no audit line');
  });

  await t.test('the same name again is refused, with --name as the hint', async () => {
    const before = rootView(b.root);
    const again = await ocm(['import', file], { root: b.root });
    refusedWith(again, /user "alice" already exists in this root/);
    assert.match(again.stderr, /hint: .*--name/);
    assert.deepEqual(rootView(b.root), before);
  });

  await t.test('--name and --no-start into a root that meters models and has her group: a second copy, in the group, on this meter', async () => {
    editManifest(b.root, (m) => {
      m.settings.models = { listenPort: 18790, providers: { openai: PROVIDER }, groups: { family: { daily: 3, members: ['alice'] } } };
    });
    const second = await ocm(['import', file, '--name', 'alice2', '--no-start'], { root: b.root });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /imported alice2 \(exported as alice\)/);
    assert.match(second.stderr, /^alice2 joined model group "family", as at the source$/m);
    assert.deepEqual(parseManifest(readFileSync(`${b.root}/ocm.yaml`, 'utf8')).settings.models?.groups.family, { daily: 3, members: ['alice', 'alice2'] });
    const providers = providersIn(b.root, 'alice2');
    assert.deepEqual(Object.keys(providers).sort(), ['mine', 'openai']);
    assert.equal(providers.openai?.apiKey, meterKey(readFileSync(`${b.root}/meter.secret`, 'utf8').trim(), 'alice2'), "root B's key for alice2");
    assert.ok(providers.openai?.baseUrl?.startsWith(`http://${poolB}.`), `root B's meter address: ${providers.openai?.baseUrl}`);
    assert.equal(readFileSync(`${b.root}/users/alice2/state/workspace/note.txt`, 'utf8'), 'remember the milk\n');
    assert.ok(!(await containersOf(b.root)).includes(`${b.project}-alice2`), 'no container for alice2');
    assert.equal((await ocm(['start', 'alice2'], { root: b.root })).code, 0);
  });

  await t.test('a failure after the add (a pinned image this host lacks) leaves nothing behind', async () => {
    const pinned = `${dir}/pinned.tar`;
    const payload = `${dir}/payload.tar.gz`;
    writeFileSync(payload, member(file, 'state.tar.gz'));
    await writeBundle(createWriteStream(pinned), { createdAt: new Date().toISOString(), user: { ...meta.user, name: 'carol', image: 'ocm-test-missing-image:0' } }, payload, meta.payload.sha256);
    const containers = await containersOf(b.root);
    const networks = await networksOf(b.root);
    const rules = (): string[] => spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(b.project)).sort();
    const rulesBefore = rules();
    assert.ok(rulesBefore.length > 0, 'root B has a network policy to compare');
    const audit = auditLines(b.root);
    // carol comes from the "family" group too: she joins it here, and must leave it again.
    assert.equal(meta.user.group, 'family');
    // As a root that never purged anyone: a failed import must not be what brings the trash directory.
    rmSync(`${b.root}/.trash`, { recursive: true, force: true });
    const before = rootView(b.root);
    const failed = await ocm(['import', pinned], { root: b.root });
    assert.deepEqual(rules(), rulesBefore, 'the firewall as it was');
    refusedWith(failed, /import of .* as carol failed .*nothing of it was kept/);
    assert.deepEqual(rootView(b.root), before, 'the root exactly as it was: no trash directory, the group as it was');
    assert.deepEqual(auditLines(b.root).slice(0, audit.length), audit);
    const lines = auditLines(b.root).slice(audit.length).map((l) => JSON.parse(l) as { action: string; target: string; details: { undone: boolean } });
    assert.deepEqual(lines.map((l) => [l.action, l.target, l.details.undone]), [['user.import.failed', 'carol', true]], 'one audit line says what happened');
    assert.ok(!existsSync(`${b.root}/users/carol`));
    assert.deepEqual(await containersOf(b.root), containers);
    assert.deepEqual(await networksOf(b.root), networks);
  });
});

test('Ctrl-C during an import, while the gateway starts, takes the import back', async (t) => {
  const c = await testRoot(t);
  const dir = tempDir(t);
  assert.equal((await ocm(['add', 'erin'], { root: c.root })).code, 0);
  const file = `${dir}/erin.ocm-export.tar`;
  assert.equal((await ocm(['export', 'erin', '-o', file], { root: c.root })).code, 0);
  // From here on a new gateway of this root never answers healthy, so the import waits for it.
  editManifest(c.root, (m) => {
    m.settings.env = { OCM_FIXTURE_NEVER_HEALTHY: '1' };
  });
  assert.equal((await ocm(['render'], { root: c.root })).code, 0);
  const containers = await containersOf(c.root);
  const networks = await networksOf(c.root);
  const rules = (): string[] => spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(c.project)).sort();
  const rulesBefore = rules();
  const audit = auditLines(c.root);
  const before = rootView(c.root);

  const child = spawn(process.execPath, [OCM_BIN, '--root', c.root, 'import', file, '--name', 'frank'], { env: { ...process.env, OCM_ROOT: '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Interrupt once frank's container exists: added, state placed, started, waiting for health.
  const deadline = Date.now() + 60_000;
  while (!(await containersOf(c.root)).includes(`${c.project}-frank`)) {
    assert.ok(Date.now() < deadline, `frank's container never appeared; stderr: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /SIGINT: taking the import back/);
  assert.match(stderr, /error: import of .* as frank failed \(OCM_E_INTERRUPTED: interrupted while waiting for the gateway of "?frank"?\); nothing of it was kept/);
  assert.deepEqual(rootView(c.root), before, 'the root exactly as it was');
  assert.deepEqual(await containersOf(c.root), containers);
  assert.deepEqual(await networksOf(c.root), networks);
  assert.deepEqual(rules(), rulesBefore, 'the firewall as it was');
  const lines = auditLines(c.root).slice(audit.length).map((l) => JSON.parse(l) as { action: string; target: string; details: { error: string; undone: boolean } });
  assert.deepEqual(lines.map((l) => [l.action, l.target, l.details.error, l.details.undone]), [['user.import.failed', 'frank', 'OCM_E_INTERRUPTED', true]]);
});

test('hostile and broken export files are refused before the target root changes', async (t) => {
  const b = await testRoot(t);
  const dir = tempDir(t);
  assert.equal((await ocm(['add', 'bob'], { root: b.root })).code, 0);

  async function bundle(name: string, inner: Parameters<typeof craftArchive>[1], meta: Record<string, unknown> = {}, wrongSha?: string): Promise<string> {
    const archive = `${dir}/${name}-20260101T000000Z.tar.gz`;
    await craftArchive(archive, inner, { sidecar: false });
    const body = readFileSync(archive);
    const sha = wrongSha ?? createHash('sha256').update(body).digest('hex');
    const out = `${dir}/${name}.tar`;
    await writeBundle(createWriteStream(out), { createdAt: new Date().toISOString(), user: { name: 'mallory' } }, archive, sha);
    if (Object.keys(meta).length > 0) {
      // Rewrite the description in place: same length, so the tar stays well formed.
      const bytes = readFileSync(out);
      const text = bytes.toString('latin1');
      let changed = text;
      for (const [from, to] of Object.entries(meta)) changed = changed.replace(from, String(to));
      assert.equal(changed.length, text.length);
      writeFileSync(out, Buffer.from(changed, 'latin1'));
    }
    return out;
  }
  const dirEntry = (name: string) => ({ header: { name, type: 'directory' as const } });
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['path traversal', () => bundle('traversal', [dirEntry('state'), { header: { name: 'state/../../evil', type: 'file' }, body: Buffer.from('x') }]), /"state\/\.\.\/\.\.\/evil" is absolute or contains "\.\."/],
    ['a symlink escaping the tree', () => bundle('symlink', [dirEntry('state'), { header: { name: 'state/etc', type: 'symlink', linkname: '/etc' } }]), /"state\/etc" is a symlink to "\/etc", which resolves outside the tree/],
    ['a device', () => bundle('device', [dirEntry('state'), { header: { name: 'state/null', type: 'character-device', devmajor: 1, devminor: 3 } }]), /is a character-device/],
    ['a wrong checksum', () => bundle('checksum', [dirEntry('state')], {}, '0'.repeat(64)), /does not match its checksum/],
    ['a different version', () => bundle('version', [dirEntry('state')], { '"version": 1': '"version": 7' }), /export format version 7 is not the one this ocm reads \(1\)/],
    ['a truncated file', async () => {
      const p = await bundle('truncated', [dirEntry('state'), { header: { name: 'state/big', type: 'file' }, body: Buffer.alloc(64 << 10, 7) }]);
      truncateSync(p, statSync(p).size - 2048);
      return p;
    }, /truncated|holds no state\.tar\.gz/],
    ['not an export at all', async () => {
      const p = `${dir}/plain.txt`;
      writeFileSync(p, 'hello\n');
      return p;
    }, /plain\.txt: (is empty or not a tar file|is not a readable export)/],
  ];
  const containers = await containersOf(b.root);
  for (const [label, make, pattern] of cases) {
    await t.test(label, async () => {
      const file = await make();
      const before = rootView(b.root);
      const audit = readFileSync(`${b.root}/audit.log`, 'utf8');
      const r = await ocm(['import', file], { root: b.root });
      refusedWith(r, pattern);
      assert.deepEqual(rootView(b.root), before, 'root B unchanged');
      assert.equal(readFileSync(`${b.root}/audit.log`, 'utf8'), audit, 'a refusal writes no audit line');
      assert.deepEqual(await containersOf(b.root), containers);
    });
  }
});
