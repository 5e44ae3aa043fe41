// A certificate change without a daemon restart: new paths in ocm.yaml are
// served to new connections, a pair that does not match is refused (the old
// one stays), files renewed in place are picked up on reload (SIGHUP), and
// only what cannot change live (listen addresses, HTTP <-> HTTPS) asks for a
// restart.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { execa } from 'execa';
import { validateManifest } from '@ocm/core';
import { restartNeeded } from '../src/build-daemon.js';
import { waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { makeRoot } from './support/root.js';

async function pair(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:*.localhost']);
  return { cert, key };
}

/** The CN of the certificate a new TLS connection is given. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'alice.localhost', rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(',') : String(cn));
    });
    socket.on('error', reject);
  });
}

test('restartNeeded: only listen addresses, the proxy mode and HTTP <-> HTTPS', () => {
  const settings = (s: Record<string, unknown>) => validateManifest({ settings: s }).settings;
  const tls = { certificate: '/a.pem', key: '/a.key' };
  assert.deepEqual(restartNeeded(settings({ tls }), settings({ tls: { certificate: '/b.pem', key: '/b.key' } })), []);
  assert.deepEqual(restartNeeded(settings({}), settings({ tls })), ['settings.tls']);
  assert.deepEqual(restartNeeded(settings({}), settings({ proxy: { listen: '127.0.0.1:9999' } })), ['settings.proxy.listen']);
  assert.deepEqual(restartNeeded(settings({ proxy: { mode: 'nginx' } }), settings({ proxy: { mode: 'nginx', nginx: { httpPort: 8081 } }, tls })), []);
  assert.deepEqual(restartNeeded(settings({}), settings({ proxy: { mode: 'nginx' }, admin: { listen: '127.0.0.1:7071' } })), ['settings.proxy.mode', 'settings.admin']);
});

test('the embedded proxy serves a changed certificate without a restart, and keeps the old one over a bad pair', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-tls-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = [await pair(dir, 'first'), await pair(dir, 'second')];
  const { root } = await makeRoot(t, { edit: (yaml) => yaml.replace('tls: {}', `tls:\n    certificate: ${a.cert}\n    key: ${a.key}`) });
  const { daemon, addresses, logs } = await startDaemon(t, root, { watchPollMs: 100 });
  const port = addresses.proxy?.port ?? 0;
  assert.equal(addresses.proxy?.proto, 'https');
  assert.equal(await servedCn(port), 'first');

  const manifest = `${root}/ocm.yaml`;
  const text = readFileSync(manifest, 'utf8');
  writeFileSync(manifest, text.replace(a.cert, b.cert).replace(a.key, b.key));
  await waitFor(async () => (await servedCn(port)) === 'second', { what: 'the second certificate', timeoutMs: 10_000 });
  assert.ok(logs.some((l) => l.includes('TLS certificate loaded')));
  assert.ok(!logs.some((l) => l.includes('restart the daemon')), 'no restart asked for');

  // A certificate with another's key: refused, the second one is still served.
  writeFileSync(manifest, text.replace(a.key, b.key));
  await waitFor(() => logs.some((l) => l.includes('the previous one is still served')), { what: 'the refusal in the log', timeoutMs: 10_000 });
  assert.equal(await servedCn(port), 'second');

  // Back to a good pair, then renewed in place (same paths): picked up on reload, as on SIGHUP.
  writeFileSync(manifest, text);
  await waitFor(async () => (await servedCn(port)) === 'first', { what: 'the first certificate again', timeoutMs: 10_000 });
  const renewed = await pair(dir, 'renewed');
  writeFileSync(a.cert, readFileSync(renewed.cert));
  writeFileSync(a.key, readFileSync(renewed.key));
  assert.equal(await servedCn(port), 'first', 'files changed on disk are not read until a reload');
  await daemon.reload();
  assert.equal(await servedCn(port), 'renewed');
});
