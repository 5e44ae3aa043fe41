// The certificate manager against a real ACME CA (Pebble) answering HTTP-01
// from the challenge table: issue, store 0600, verify the chain with openssl,
// force a renewal, add a host live, a CA that cannot be reached, and a host
// the CA cannot resolve.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createAcmeIssuer, createCertManager, createCertStore, createChallengeTable, accountKeyPath, type ChallengeTable, type StoredCert } from '@ocm/acme';
import { failDns, startPebble } from '../../../test/support/pebble.js';

const verify = (rootFile: string, chainFile: string): string => {
  // The chain file holds leaf then intermediates: the leaf is checked with the rest as untrusted.
  const dir = mkdtempSync(join(tmpdir(), 'ocm-chain-'));
  try {
    const pem = readFileSync(chainFile, 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    writeFileSync(join(dir, 'leaf.pem'), blocks[0] ?? '');
    writeFileSync(join(dir, 'rest.pem'), blocks.slice(1).join(''));
    return execFileSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', join(dir, 'rest.pem'), join(dir, 'leaf.pem')]).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** An HTTP server for the CA's challenges, Pebble pointed at it, and a manager storing under a fresh root. */
async function withPebble(t: TestContext, handler: RequestListener, challenges: ChallengeTable, onCertificate?: (host: string, cert: StoredCert) => void) {
  const http = createServer(handler).listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(() => http.close());
  const pebble = await startPebble(t, { httpPort: (http.address() as AddressInfo).port });
  const root = mkdtempSync(join(tmpdir(), 'ocm-acme-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const store = createCertStore(root);
  const manager = createCertManager({
    store,
    issuer: createAcmeIssuer({ email: 'admin@your-ai.com', directory: pebble.directory, caFile: pebble.apiCaFile }, store, challenges),
    ...(onCertificate === undefined ? {} : { onCertificate }),
  });
  t.after(() => manager.close());
  return { pebble, root, store, manager };
}

test('certificates from a real ACME CA: issued, stored 0600, verified, renewed, added live', async (t) => {
  const challenges = createChallengeTable();
  const requested: string[] = [];
  const issued: Array<[string, StoredCert]> = [];
  const { pebble, root, store, manager } = await withPebble(t, (req, res) => {
    requested.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    const answer = challenges.answer(req.url ?? '');
    res.writeHead(answer === undefined ? 404 : 200).end(answer ?? '');
  }, challenges, (host, cert) => void issued.push([host, cert]));

  await manager.setHosts(['alice.your-ai.com']);
  await manager.idle();
  const alice = manager.certificate('alice.your-ai.com');
  assert.ok(alice, `issued: ${JSON.stringify(manager.status())}`);
  assert.match(verify(pebble.rootFile, alice.files.cert), /OK/);
  for (const file of [alice.files.cert, alice.files.key, accountKeyPath(root)]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  assert.ok(requested.some((r) => r.startsWith('alice.your-ai.com') && r.includes('/.well-known/acme-challenge/')), 'HTTP-01 reached us');

  const [status] = manager.status();
  assert.equal(status?.host, 'alice.your-ai.com');
  assert.match(status?.issuer ?? '', /Pebble/);
  assert.ok((status?.daysLeft ?? 0) > 30);
  assert.equal(status?.lastError, undefined);

  // Nothing due: a renew without force orders nothing; with force, a new serial.
  await manager.renew(['alice.your-ai.com']);
  assert.equal(manager.certificate('alice.your-ai.com')?.serial, alice.serial);
  await manager.renew(['alice.your-ai.com'], true);
  const renewed = manager.certificate('alice.your-ai.com');
  assert.notEqual(renewed?.serial, alice.serial);
  assert.match(verify(pebble.rootFile, alice.files.cert), /OK/);

  // A second host added live is ordered at once; a restart loads both from disk.
  await manager.setHosts(['alice.your-ai.com', 'bob.your-ai.com']);
  await manager.idle();
  assert.ok(manager.certificate('bob.your-ai.com'));
  assert.deepEqual(issued.map(([h]) => h), ['alice.your-ai.com', 'alice.your-ai.com', 'bob.your-ai.com']);
  const again = createCertManager({ store, issuer: { issue: () => Promise.reject(new Error('must not order')) } });
  await again.setHosts(['alice.your-ai.com', 'bob.your-ai.com']);
  await again.idle();
  assert.equal(again.certificate('alice.your-ai.com')?.serial, renewed?.serial);
  assert.deepEqual(again.status().map((s) => s.lastError), [undefined, undefined]);
  again.close();

  await assert.rejects(manager.renew(['stranger.example.org']), /is not a user host/);
});

test('an unreachable CA: a clear error per host, a retry time, and existing certificates kept', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ocm-acme-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const store = createCertStore(root);
  const manager = createCertManager({
    store,
    issuer: createAcmeIssuer({ email: 'admin@your-ai.com', directory: 'https://127.0.0.1:9/dir' }, store, createChallengeTable()),
  });
  t.after(() => manager.close());
  // alice holds a certificate from before (self-signed here); carol has none yet.
  const dir = mkdtempSync(join(tmpdir(), 'ocm-self-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90', '-subj', '/CN=alice.your-ai.com',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
  const before = await store.write('alice.your-ai.com', { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') });
  await manager.setHosts(['alice.your-ai.com', 'carol.your-ai.com']);
  await manager.idle();
  await manager.renew(['alice.your-ai.com'], true);
  const [alice, carol] = manager.status();
  assert.match(carol?.lastError ?? '', /^certificate for carol\.your-ai\.com: the ACME directory "https:\/\/127\.0\.0\.1:9\/dir" cannot be reached \(ECONNREFUSED\)$/);
  assert.ok(carol?.nextAttempt !== undefined && Date.parse(carol.nextAttempt) > Date.now());
  assert.equal(manager.certificate('carol.your-ai.com'), undefined);
  assert.match(alice?.lastError ?? '', /cannot be reached/);
  assert.equal(alice?.serial, before.serial, 'alice keeps her certificate');
  assert.equal(readFileSync(before.files.cert, 'utf8'), readFileSync(join(dir, 'cert.pem'), 'utf8'));
  assert.deepEqual(readdirSync(join(root, 'tls/acme/certs')), ['alice.your-ai.com'], 'nothing written for carol');
});

test('a CA that refuses the challenge: the reason recorded, nothing written, retried later', async (t) => {
  // Answers every challenge with 404, as a host whose port 80 reaches something else would.
  const { root, manager } = await withPebble(t, (_req, res) => void res.writeHead(404).end(), createChallengeTable());
  await manager.setHosts(['dave.your-ai.com']);
  await manager.idle();
  const [dave] = manager.status();
  assert.match(dave?.lastError ?? '', /^certificate for dave\.your-ai\.com: .*(unauthorized|invalid|404)/i);
  assert.ok(!dave?.lastError?.includes('\n'), 'one line');
  assert.ok(dave?.nextAttempt !== undefined);
  assert.equal(manager.certificate('dave.your-ai.com'), undefined);
  assert.deepEqual(readdirSync(join(root, 'tls/acme')), ['account.key'], 'only the account key, no half pair');
});

test('a user host the CA cannot resolve: one line naming DNS, nothing written, the other host issued', async (t) => {
  const challenges = createChallengeTable();
  const { pebble, root, manager } = await withPebble(t, (req, res) => {
    const answer = challenges.answer(req.url ?? '');
    res.writeHead(answer === undefined ? 404 : 200).end(answer ?? '');
  }, challenges);
  await failDns(pebble, 'ghost.your-ai.com');
  await manager.setHosts(['erin.your-ai.com', 'ghost.your-ai.com']);
  await manager.idle();
  const [erin, ghost] = manager.status();
  assert.match(ghost?.lastError ?? '', /^certificate for ghost\.your-ai\.com: the CA cannot resolve ghost\.your-ai\.com; give it an A \(or AAAA\) record pointing at this server \(the CA said: .*could not resolve/);
  assert.ok(!ghost?.lastError?.includes('\n'), 'one line');
  assert.ok(ghost?.nextAttempt !== undefined && Date.parse(ghost.nextAttempt) > Date.now(), 'retried later');
  assert.equal(manager.certificate('ghost.your-ai.com'), undefined);
  assert.equal(erin?.lastError, undefined);
  assert.ok(manager.certificate('erin.your-ai.com') !== undefined, 'the other host is issued');
  assert.deepEqual(readdirSync(join(root, 'tls/acme/certs')), ['erin.your-ai.com'], 'nothing written for ghost');
});
