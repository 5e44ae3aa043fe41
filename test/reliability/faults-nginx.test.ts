// nginx mode when nginx is missing, stopped, or its config was broken by
// hand: every apply fails with one clear error, ocm's files are put back byte
// for byte (nothing half-applied), nginx keeps serving its last good config,
// and `ocm doctor` names the problem with a fix.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { OcmError, renderDeployment, validateManifest } from '@ocm/core';
import { NginxApplier, createNginxControl, MANAGED_MARKER } from '@ocm/proxy';
import { ocm, tempDir } from '../helpers/cli.js';
import { FIXTURE_IMAGE, ensureFixtureImage, freePort } from '../support/docker.js';
import { httpJson, waitFor } from '../support/wait.js';
import { startNginx } from './support/nginx.js';
import { record } from './support/record.js';
import { templates } from './support/rendered.js';

/** Two tiny upstreams on adjacent ports, standing in for alice's and bob's gateways. */
async function upstreams(t: TestContext): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    const servers = ['alice', 'bob'].map((name) => http.createServer((_req, res) => res.end(name)));
    try {
      for (const [i, s] of servers.entries()) {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + i, '127.0.0.1', () => resolve());
        });
      }
      t.after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
      assert.equal((servers[1]?.address() as AddressInfo).port, base + 1);
      return base;
    } catch {
      servers.forEach((s) => s.close());
    }
  }
  throw new Error('no two adjacent free ports');
}

const confFiles = (dir: string): Map<string, string> => new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(`${dir}/${f}`, 'utf8')]));

function assertClear(error: unknown, code: string, mentions: RegExp): OcmError {
  assert.ok(error instanceof OcmError, String(error));
  assert.equal(error.code, code, error.message);
  assert.match(error.message, mentions);
  assert.ok(!/[\r\n]/.test(error.message), `one line: ${JSON.stringify(error.message)}`);
  return error;
}

test('nginx missing, stopped or broken by hand', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'ocm-nginx-');
  const port = await freePort();
  const base = await upstreams(t);
  const nginx = await startNginx(t, dir, port);
  const manifest = (users: string[]) => validateManifest({
    settings: { proxy: { mode: 'nginx', nginx: { listenAddress: '127.0.0.1', httpPort: port, confDir: nginx.confDir } }, ports: { base, max: base + 10 } },
    users: users.map((name, i) => ({ name, port: base + i })),
  });
  const files = (users: string[]): Map<string, string> => {
    const m = manifest(users);
    const rendered = renderDeployment(m, { root: '/opt/ocm', tokens: new Map(users.map((u) => [u, 't'])), templates });
    return new Map(rendered.files.filter((f) => f.path.startsWith('nginx/')).map((f) => [f.path.slice('nginx/'.length), f.content]));
  };
  const control = createNginxControl({ configPath: nginx.configPath, errorLogPath: `${dir}/error.log` });
  const applier = new NginxApplier({ confDir: nginx.confDir, control, batchWindowMs: 0 });
  const get = async (name: string): Promise<string> => (await httpJson(`http://127.0.0.1:${port}/`, { headers: { host: `${name}.localhost` } })).text;
  // A reload is asynchronous: old workers answer with the old config for a moment.
  const settled = async (name: string, expected: string): Promise<void> => {
    let streak = 0;
    await waitFor(async () => {
      streak = (await get(name)) === expected ? streak + 1 : 0;
      return streak >= 5;
    }, { what: `nginx to answer ${expected} for ${name}`, timeoutMs: 10_000, intervalMs: 50 });
  };
  const figures: Record<string, string> = {};

  const first = await applier.apply(files(['alice']));
  assert.equal(first.reloaded, true);
  await settled('alice', 'alice');

  await t.test('a hand-broken file beside ocm\'s: refused naming the file, nothing applied, old config served', async () => {
    const hand = `${nginx.confDir}/zz-hand-edit.conf`;
    writeFileSync(hand, 'server {\n  listen 127.0.0.1:1;\n  bogus_directive on;\n}\n');
    try {
      const before = confFiles(nginx.confDir);
      const e = assertClear(await applier.apply(files(['alice', 'bob'])).catch((x: unknown) => x), 'OCM_E_NGINX_INVALID', /zz-hand-edit\.conf:3.*bogus_directive.*previous files restored/);
      figures.foreignBroken = e.message;
      assert.deepEqual(confFiles(nginx.confDir), before, 'conf dir byte-identical');
      assert.equal(await get('alice'), 'alice');
      assert.notEqual(await get('bob'), 'bob', 'bob not half-applied');
    } finally {
      rmSync(hand);
    }
  });

  await t.test('a broken main nginx.conf: refused naming it, nothing applied', async () => {
    const good = readFileSync(nginx.configPath, 'utf8');
    const before = confFiles(nginx.confDir);
    writeFileSync(nginx.configPath, `${good}\nthis is not nginx;\n`);
    try {
      const e = assertClear(await applier.apply(files(['alice', 'bob'])).catch((x: unknown) => x), 'OCM_E_NGINX_INVALID', /nginx\.conf:\d+.*previous files restored/);
      figures.mainBroken = e.message;
      assert.deepEqual(confFiles(nginx.confDir), before);
      assert.equal(await get('alice'), 'alice', 'the running nginx keeps its config');
    } finally {
      writeFileSync(nginx.configPath, good);
    }
  });

  await t.test('ocm\'s own file broken by hand is rewritten on the next apply', async () => {
    writeFileSync(`${nginx.confDir}/alice.conf`, `${MANAGED_MARKER}\nserver { garbage }\n`);
    const r = await applier.apply(files(['alice', 'bob']));
    assert.deepEqual(r.written, ['alice.conf', 'bob.conf']);
    await settled('alice', 'alice');
    await settled('bob', 'bob');
    figures.ownFileBroken = 'rewritten and reloaded';
  });

  await t.test('nginx binary missing: OCM_E_NGINX_MISSING, files put back', async () => {
    const missing = new NginxApplier({ confDir: nginx.confDir, control: createNginxControl({ binary: '/nonexistent/nginx', configPath: nginx.configPath }), batchWindowMs: 0 });
    const before = confFiles(nginx.confDir);
    const e = assertClear(await missing.apply(files(['alice'])).catch((x: unknown) => x), 'OCM_E_NGINX_MISSING', /\/nonexistent\/nginx/);
    figures.binaryMissing = e.message;
    assert.deepEqual(confFiles(nginx.confDir), before, 'bob.conf is still there, unchanged');
    assert.equal(await get('bob'), 'bob');
  });

  await t.test('nginx not running: the reload fails clearly, files put back', async () => {
    process.kill(nginx.pid, 'SIGQUIT');
    await new Promise((r) => setTimeout(r, 500));
    const before = confFiles(nginx.confDir);
    const e = assertClear(await applier.apply(files(['alice'])).catch((x: unknown) => x), 'OCM_E_NGINX_INVALID', /reload/);
    figures.notRunning = e.message;
    assert.deepEqual(confFiles(nginx.confDir), before);
  });

  await t.test('ocm doctor in nginx mode with the binary missing names it, with a fix', async () => {
    await ensureFixtureImage();
    const root = `${tempDir(t)}/root`;
    assert.equal((await ocm(['init', '--proxy', 'nginx', '--image', FIXTURE_IMAGE], { root })).code, 0);
    const path = `${root}/ocm.yaml`;
    writeFileSync(path, readFileSync(path, 'utf8').replace('binary: nginx', 'binary: /nonexistent/nginx'));
    const r = await ocm(['doctor'], { root });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /^FAIL nginx +installed +\/nonexistent\/nginx cannot be run: ENOENT$/m);
    assert.match(r.stdout, /fix: apt-get install nginx/);
    assert.match(r.stderr, /^error: doctor found \d+ problem/m);
    figures.doctorMissing = r.stdout.split('\n').filter((l) => /FAIL|fix:/.test(l)).map((l) => l.trim()).join(' / ');
  });

  await t.test('ocm doctor in nginx mode with a config nginx -t refuses says so', async () => {
    const root = `${tempDir(t)}/root`;
    assert.equal((await ocm(['init', '--proxy', 'nginx', '--image', FIXTURE_IMAGE], { root })).code, 0);
    const broken = `${dir}/broken-main.conf`;
    writeFileSync(broken, 'this is not nginx;\n');
    const path = `${root}/ocm.yaml`;
    writeFileSync(path, readFileSync(path, 'utf8').replace('binary: nginx', `binary: nginx\n      config: ${broken}`));
    const r = await ocm(['doctor'], { root });
    figures.doctorBrokenConfig = `exit ${r.code}: ${r.stdout.split('\n').filter((l) => /nginx/.test(l)).join(' / ')}`;
    assert.notEqual(r.code, 0, r.stdout);
  });
  record(t, 'faults.nginx', figures);
});
