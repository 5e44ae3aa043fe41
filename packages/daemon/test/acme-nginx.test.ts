// nginx mode with settings.tls.acme against a real ACME CA (Pebble) and a
// real nginx: the CA's HTTP-01 requests reach the daemon through nginx's port
// 80, nginx serves each user's issued certificate on its HTTPS port (verified
// with openssl against Pebble's root), accepts its config (`nginx -t`) before
// and after issuance, serves a forced renewal's new serial, and certifies a
// user added while everything runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PLACEHOLDER_CN } from '@ocm/acme';
import { freePort } from '../../../test/support/docker.js';
import { nginxServes, opensslVerifies, servedSerial, startPebble } from '../../../test/support/pebble.js';
import { httpJson } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { tlsApi } from './support/tls-api.js';
import { startNginx } from './support/nginx.js';
import { cli, makeRoot } from './support/root.js';

test('nginx mode: ACME certificates issued through nginx, served, renewed and added live', { timeout: 180_000 }, async (t) => {
  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const nginx = await startNginx(t, httpPort);
  const pebble = await startPebble(t, { httpPort });
  const { root } = await makeRoot(t, {
    proxyMode: 'nginx',
    edit: (yaml) => yaml
      .replace(/domain: [^\n]+/, 'domain: your-ai.com')
      .replace('tls: {}', `tls:\n    acme:\n      email: admin@your-ai.com\n      directory: ${pebble.directory}\n      caFile: ${pebble.apiCaFile}`)
      .replace(/( {2}admin:\n {4}listen: )[^\n]+/, `$1127.0.0.1:${adminPort}`)
      .replace(
        / {4}nginx:\n {6}binary: nginx\n {6}httpPort: 80\n {6}httpsPort: 443\n {6}listenAddress: ""\n/,
        `    nginx:\n      confDir: ${nginx.confDir}\n      binary: nginx\n      config: ${nginx.configPath}\n      httpPort: ${httpPort}\n      httpsPort: ${httpsPort}\n      listenAddress: 127.0.0.1\n`,
      ),
  });
  const yaml = readFileSync(`${root}/ocm.yaml`, 'utf8');
  assert.match(yaml, new RegExp(`confDir: ${nginx.confDir}`));
  assert.match(yaml, new RegExp(`listen: 127\\.0\\.0\\.1:${adminPort}`));
  const nginxAccepts = (): string => execFileSync('nginx', ['-t', '-c', nginx.configPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  // Before any daemon ran: alice's block names her own files, a placeholder nginx loads, not a certificate.
  await cli(root, 'add', 'alice', '--no-start');
  nginxAccepts();
  const aliceFiles = `${root}/tls/acme/certs/alice.your-ai.com`;
  assert.match(readFileSync(`${nginx.confDir}/alice.conf`, 'utf8'), new RegExp(`ssl_certificate ${aliceFiles}/fullchain\\.pem;`));
  assert.match(execFileSync('openssl', ['x509', '-noout', '-subject', '-in', `${aliceFiles}/fullchain.pem`], { encoding: 'utf8' }), new RegExp(PLACEHOLDER_CN));

  const daemon = await startDaemon(t, root, { watchPollMs: 100 }, { admin: { host: '127.0.0.1', port: adminPort } });
  const { addresses } = daemon;
  assert.equal(addresses.proxy, undefined, 'no embedded proxy in nginx mode');
  const ca = readFileSync(pebble.rootFile);
  const { call: api, certified } = tlsApi(daemon);
  const serves = (host: string, serial: string | undefined): Promise<void> => nginxServes(httpsPort, host, ca, serial);

  const alice = await certified('alice.your-ai.com');
  assert.match(alice.issuer ?? '', /Pebble/);
  await serves('alice.your-ai.com', alice.serial);
  assert.match(await opensslVerifies(httpsPort, 'alice.your-ai.com', pebble.rootFile), /Verify return code: 0 \(ok\)/);
  // Served only if the daemon reloaded nginx after the issuance: it loaded the placeholder at start.
  nginxAccepts();

  // Port 80: everything but the CA's challenges goes to HTTPS, on nginx's HTTPS port.
  const plain = await httpJson(`http://127.0.0.1:${httpPort}/chat?x=1`, { headers: { host: 'alice.your-ai.com' } });
  assert.equal(plain.status, 308);
  assert.equal(plain.headers['location'], `https://alice.your-ai.com:${httpsPort}/chat?x=1`);
  // A token no order opened: nginx passes it to the daemon, which knows nothing of it.
  const unknown = await httpJson(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/not-a-token`, { headers: { host: 'alice.your-ai.com' } });
  assert.equal(unknown.status, 404, unknown.text);

  const renewed = (await api('/api/tls/renew', { names: ['alice'], force: true })).hosts[0];
  assert.notEqual(renewed?.serial, alice.serial);
  await serves('alice.your-ai.com', renewed?.serial);
  await opensslVerifies(httpsPort, 'alice.your-ai.com', pebble.rootFile);

  // bob added while the daemon and nginx run: his block is loaded with a placeholder, then his certificate.
  await cli(root, 'add', 'bob', '--no-start');
  const bob = await certified('bob.your-ai.com');
  await serves('bob.your-ai.com', bob.serial);
  await opensslVerifies(httpsPort, 'bob.your-ai.com', pebble.rootFile);
  assert.equal(await servedSerial(httpsPort, 'alice.your-ai.com', ca), renewed?.serial);
  nginxAccepts();
  assert.deepEqual((await api('/api/tls')).hosts.map((h) => h.lastError), [undefined, undefined]);
});
