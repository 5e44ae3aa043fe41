// Rendered files are valid for the real tools: Debian's docker-compose and nginx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseManifest, type Manifest } from '@ocm/core';
import { DeploymentRoot } from '@ocm/store';
import { tempDir } from './helpers/cli.js';

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
  test(`fixture ${name}: docker-compose config and nginx -t accept the render`, async (t) => {
    const dir = tempDir(t);
    const manifest = parseManifest(readFileSync(new URL(`${name}/ocm.yaml`, fixtures), 'utf8'));
    if (manifest.settings.tls.certificate !== undefined) manifest.settings.tls = selfSignedCert(dir);
    const root = `${dir}/root`;
    await renderInto(root, manifest);

    const compose = spawnSync('docker-compose', ['-f', `${root}/docker-compose.yml`, '-p', 'ocm', 'config', '-q'], { encoding: 'utf8' });
    assert.equal(compose.status, 0, compose.stderr);
    const services = spawnSync('docker-compose', ['-f', `${root}/docker-compose.yml`, '-p', 'ocm', 'config', '--services'], { encoding: 'utf8' });
    assert.deepEqual(services.stdout.trim().split('\n').sort(), manifest.users.filter((u) => u.enabled).map((u) => u.name).sort());

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
