// nginx mode with settings.tls.acme, a real nginx: a daemon that starts with
// several users whose certificates are already on disk reloads nginx once for
// all of them (the reload that loads the confs loads the files they name),
// and nginx then serves each host its own certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCertStore } from '@ocm/acme';
import { createNginxControl } from '@ocm/proxy';
import { freePort } from '../../../test/support/docker.js';
import { nginxServes } from '../../../test/support/pebble.js';
import { startDaemon } from './support/daemon.js';
import { startNginx } from './support/nginx.js';
import { tlsApi } from './support/tls-api.js';
import { cli, makeRoot } from './support/root.js';

/** A self-signed pair for a host, valid 90 days: on disk it reads as a certificate that is not due. */
function selfSigned(dir: string, host: string): { cert: string; key: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90',
    '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', join(dir, `${host}.key`), '-out', join(dir, `${host}.pem`)], { stdio: 'pipe' });
  return { cert: readFileSync(join(dir, `${host}.pem`), 'utf8'), key: readFileSync(join(dir, `${host}.key`), 'utf8') };
}

test('nginx mode: a start with several hosts\' certificates on disk reloads nginx once, and nginx serves each', { timeout: 120_000 }, async (t) => {
  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const nginx = await startNginx(t, httpPort);
  const { root } = await makeRoot(t, {
    proxyMode: 'nginx',
    edit: (yaml) => yaml
      .replace(/domain: [^\n]+/, 'domain: your-ai.com')
      // Nothing is due, so no order is made: the directory is never asked.
      .replace('tls: {}', 'tls:\n    acme:\n      email: admin@your-ai.com\n      directory: https://127.0.0.1:9/dir')
      .replace(/( {2}admin:\n {4}listen: )[^\n]+/, `$1127.0.0.1:${adminPort}`)
      .replace(
        / {4}nginx:\n {6}binary: nginx\n {6}httpPort: 80\n {6}httpsPort: 443\n {6}listenAddress: ""\n/,
        `    nginx:\n      confDir: ${nginx.confDir}\n      binary: nginx\n      config: ${nginx.configPath}\n      httpPort: ${httpPort}\n      httpsPort: ${httpsPort}\n      listenAddress: 127.0.0.1\n`,
      ),
  });
  const names = ['alice', 'bob', 'carol'];
  for (const name of names) await cli(root, 'add', name, '--no-start');
  const pairs = mkdtempSync(join(tmpdir(), 'ocm-pairs-'));
  t.after(() => rmSync(pairs, { recursive: true, force: true }));
  const store = createCertStore(root);
  const serials = new Map<string, { serial: string; ca: Buffer }>();
  for (const name of names) {
    const host = `${name}.your-ai.com`;
    const pair = selfSigned(pairs, host);
    serials.set(host, { serial: (await store.write(host, pair)).serial, ca: Buffer.from(pair.cert) });
  }

  const calls: string[] = [];
  const real = createNginxControl({ binary: 'nginx', configPath: nginx.configPath, errorLogPath: 'stderr' });
  const control = { test: async () => (calls.push('test'), real.test()), reload: async () => (calls.push('reload'), real.reload()) };
  const daemon = await startDaemon(t, root, { nginxControl: control }, { admin: { host: '127.0.0.1', port: adminPort } });
  assert.deepEqual(calls, ['test', 'reload'], 'one tested reload for the whole start');
  const held = (await tlsApi(daemon).call('/api/tls')).hosts.map((h) => [h.host, h.serial, h.lastError]);
  assert.deepEqual(held, [...serials].map(([host, { serial }]) => [host, serial, undefined]), 'the daemon holds each certificate');

  // `nginx -s reload` returns before the new workers answer: wait until nginx serves each host its own certificate.
  for (const [host, { serial, ca }] of serials) {
    await nginxServes(httpsPort, host, ca, serial);
  }
  assert.deepEqual(calls, ['test', 'reload'], 'and no reload after');
});
