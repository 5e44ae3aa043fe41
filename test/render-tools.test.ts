// Rendered files are valid for the real tools: Debian's docker-compose and nginx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensurePlaceholders } from '@ocm/acme';
import { parseManifest, userHost, type Manifest } from '@ocm/core';
import { DeploymentRoot, detectLocalClientAddress } from '@ocm/store';
import { tempDir } from './helpers/cli.js';
import { httpJson } from './support/wait.js';

const fixtures = new URL('./fixtures/render/', import.meta.url);

function selfSignedCert(dir: string): { certificate: string; key: string } {
  const certificate = `${dir}/wildcard.pem`;
  const key = `${dir}/wildcard.key`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=*.your-ai.test', '-keyout', key, '-out', certificate], { stdio: 'ignore' });
  return { certificate, key };
}

async function renderInto(root: string, manifest: Manifest): Promise<void> {
  const store = new DeploymentRoot(root);
  await store.create();
  await store.saveManifest(manifest);
  await store.apply(await store.render(manifest));
}

function nginxTest(dir: string, confDir: string): { status: number | null; output: string } {
  for (const sub of ['logs', 'tmp']) mkdirSync(`${dir}/${sub}`, { recursive: true });
  const main = `${dir}/nginx.conf`;
  writeFileSync(main, `pid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/tmp/body;\n  proxy_temp_path ${dir}/tmp/proxy;\n  fastcgi_temp_path ${dir}/tmp/fastcgi;\n  uwsgi_temp_path ${dir}/tmp/uwsgi;\n  scgi_temp_path ${dir}/tmp/scgi;\n  include ${confDir}/*.conf;\n}\n`);
  const r = spawnSync('nginx', ['-t', '-c', main], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

for (const name of readdirSync(fixtures)) {
  test(`fixture ${name}: docker-compose config (docker stack config for a swarm) and nginx -t accept the render`, async (t) => {
    const dir = tempDir(t);
    const manifest = parseManifest(readFileSync(new URL(`${name}/ocm.yaml`, fixtures), 'utf8'));
    if (manifest.settings.tls.certificate !== undefined) manifest.settings.tls = selfSignedCert(dir);
    const root = `${dir}/root`;
    await renderInto(root, manifest);
    // With ACME, ocm writes a placeholder pair for every host before nginx ever tests the confs.
    if (manifest.settings.tls.acme !== undefined && manifest.settings.tls.certificate === undefined) {
      await ensurePlaceholders(root, manifest.users.map((u) => userHost(manifest, u.name)));
    }

    const enabled = manifest.users.filter((u) => u.enabled).map((u) => u.name).sort();
    if (manifest.settings.engine === 'swarm') {
      // A stack file: the docker CLI's stack loader is its judge (docker-compose 1.29 knows no deploy pids).
      const stack = spawnSync('docker', ['stack', 'config', '-c', `${root}/docker-compose.yml`], { encoding: 'utf8' });
      assert.equal(stack.status, 0, stack.stderr);
      const config = yaml.load(stack.stdout) as { services: Record<string, { deploy?: { resources?: { limits?: { pids?: number } } } }> };
      assert.deepEqual(Object.keys(config.services).sort(), enabled);
      for (const [service, spec] of Object.entries(config.services)) assert.ok((spec.deploy?.resources?.limits?.pids ?? 0) > 0, `${service} keeps its pids limit`);
    } else {
      const compose = spawnSync('docker-compose', ['-f', `${root}/docker-compose.yml`, '-p', 'ocm', 'config', '-q'], { encoding: 'utf8' });
      assert.equal(compose.status, 0, compose.stderr);
      const services = spawnSync('docker-compose', ['-f', `${root}/docker-compose.yml`, '-p', 'ocm', 'config', '--services'], { encoding: 'utf8' });
      assert.deepEqual(services.stdout.trim().split('\n').sort(), enabled);
    }

    const nginx = nginxTest(dir, `${root}/nginx`);
    assert.equal(nginx.status, 0, nginx.output);
    assert.match(nginx.output, /syntax is ok/);
  });
}

test('nginx -t also accepts the render next to an admin\'s own $connection_upgrade map and default server', async (t) => {
  const dir = tempDir(t);
  const manifest = parseManifest(readFileSync(new URL('one-user/ocm.yaml', fixtures), 'utf8'));
  const root = `${dir}/root`;
  await renderInto(root, manifest);
  writeFileSync(`${root}/nginx/zz-admin.conf`, "map $http_upgrade $connection_upgrade { default upgrade; '' close; }\nserver { listen 80 default_server; server_name _; return 444; }\n");
  const nginx = nginxTest(dir, `${root}/nginx`);
  assert.equal(nginx.status, 0, nginx.output);
});

test('nginx forwards a remote client\'s address, and no forwarding headers for a client on its own host', async (t) => {
  const bridge = /inet (\d+\.\d+\.\d+\.\d+)/.exec(spawnSync('ip', ['-4', 'addr', 'show', 'docker0'], { encoding: 'utf8' }).stdout)?.[1];
  if (bridge === undefined) return t.skip('no docker0 address to connect from');
  const dir = tempDir(t);
  // The gateway stand-in: echoes the headers it received.
  const upstream = createServer((req, res) => res.end(JSON.stringify(req.headers)));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => upstream.close());
  const userPort = (upstream.address() as AddressInfo).port;
  const listenPort = 20000 + Math.floor(Math.random() * 20000);
  const manifest = parseManifest(`settings:\n  domain: example.test\n  ports:\n    base: ${userPort}\n    max: ${userPort}\n  proxy:\n    mode: nginx\n    nginx:\n      httpPort: ${listenPort}\nusers:\n  - name: alice\n    port: ${userPort}\n`);
  const root = `${dir}/root`;
  await renderInto(root, manifest);
  assert.equal(nginxTest(dir, `${root}/nginx`).status, 0);
  const nginx = spawnSync('nginx', ['-c', `${dir}/nginx.conf`], { encoding: 'utf8' });
  assert.equal(nginx.status, 0, nginx.stderr);
  // Read the pid now: the temp dir (and the pid file) may be gone before this hook runs.
  const pid = Number(readFileSync(`${dir}/nginx.pid`, 'utf8'));
  t.after(() => {
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  });
  const get = async (address: string): Promise<Record<string, string>> => {
    for (let i = 0; ; i++) {
      try {
        const r = await httpJson<Record<string, string>>(`http://${address}:${listenPort}/`, { headers: { host: 'alice.example.test' } });
        if (r.json === undefined) throw new Error(`no JSON: ${r.status}`);
        return r.json;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  };
  const local = await get('127.0.0.1');
  assert.equal(local.host, 'alice.example.test');
  assert.equal(local['x-forwarded-for'], detectLocalClientAddress(), "a loopback client is forwarded as this host's own address (the gateway refuses a loopback one)");
  assert.equal(local['x-forwarded-proto'], 'http');
  const remote = await get(bridge);
  // The kernel picks the source address for a connection to the bridge; it is never loopback.
  assert.match(remote['x-forwarded-for'] ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'a remote client is forwarded with its address');
  assert.doesNotMatch(remote['x-forwarded-for'] ?? '', /^127\./);
  assert.equal(remote['x-forwarded-proto'], 'http');
  assert.equal(remote['x-forwarded-host'], 'alice.example.test');
});
