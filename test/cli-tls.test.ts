// `ocm tls` without a daemon: listing reads the root; renewing needs the
// daemon and says so in one line with a hint; a root without ACME is told how.
// doctor checks a certificate the admin brings: expiry, names, key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ocm, tempDir } from './helpers/cli.js';
import { freePort } from './support/docker.js';

test('ocm tls and doctor: listing from the root, renew refused without a daemon, a hint when ACME is off, expiry and listeners checked', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'your-ai.com'], { root })).code, 0);

  const off = await ocm(['tls'], { root });
  assert.notEqual(off.code, 0);
  assert.match(off.stderr, /^error: ACME is not configured in ocm\.yaml$/m);
  assert.match(off.stderr, /^hint: set settings\.tls\.acme\.email/m);

  const [adminPort, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  const path = `${root}/ocm.yaml`;
  writeFileSync(path, readFileSync(path, 'utf8')
    .replace('tls: {}', 'tls:\n    acme:\n      email: admin@your-ai.com')
    .replace(/(proxy:\n(?:[^\n]*\n)*? {4}listen: )[^\n]+/, `$1127.0.0.1:${httpPort}\n    listenTls: 127.0.0.1:${httpsPort}`)
    .replace(/(admin:\n {4}listen: )[^\n]+/, `$1127.0.0.1:${adminPort}`));

  const empty = await ocm(['tls'], { root });
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout.trim(), 'no enabled users, so no certificates');
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
  const listed = await ocm(['tls', '--json'], { root });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), { hosts: [{ host: 'alice.your-ai.com' }] });

  const renew = await ocm(['tls', 'renew', 'alice', '--force'], { root });
  assert.notEqual(renew.code, 0);
  assert.match(renew.stderr, new RegExp(`^error: the daemon does not answer on 127\\.0\\.0\\.1:${adminPort} \\(settings\\.admin\\.listen\\)$`, 'm'));
  assert.match(renew.stderr, /^hint: certificates are ordered by the daemon; start it with `ocm daemon`/m);

  // doctor: the expiry the daemon recorded (5 days: a warning), DNS never a failure, and the HTTPS listener that nobody serves.
  const plain = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => plain.listen(httpPort, '127.0.0.1', resolve));
  t.after(() => plain.close());
  mkdirSync(`${root}/tls/acme`, { recursive: true });
  const notAfter = new Date(Date.now() + 5 * 86_400_000 + 3_600_000).toISOString();
  writeFileSync(`${root}/tls/acme/status.json`, JSON.stringify({ time: new Date().toISOString(), hosts: [{ host: 'alice.your-ai.com', notAfter }] }));
  const doctor = await ocm(['doctor', '--json'], { root });
  const findings = JSON.parse(doctor.stdout) as Array<{ scope: string; check: string; ok: boolean; warn?: boolean; detail: string }>;
  const tls = findings.filter((f) => f.check === 'certificate' || f.check === 'dns' || f.check === 'listening');
  assert.deepEqual(tls.map((f) => [f.scope, f.check, f.ok, f.warn === true]), [
    ['alice', 'certificate', true, true],
    ['alice', 'dns', true, tls[1]?.warn === true],
    ['proxy', 'listening', true, false],
    ['proxy', 'listening', false, false],
  ]);
  assert.equal(tls[0]?.detail, `alice.your-ai.com's certificate expires ${notAfter} (5 days)`);
  assert.equal(tls[3]?.detail, `settings.proxy.listenTls 127.0.0.1:${httpsPort} refuses a local connection (ECONNREFUSED)`);
  assert.notEqual(doctor.code, 0, 'a listener that refuses fails doctor');
});

/** An openssl self-signed pair in dir: `name`.pem and `name`.key. */
function pair(dir: string, name: string, days: number, sans: string): { cert: string; key: string } {
  const [cert, key] = [`${dir}/${name}.pem`, `${dir}/${name}.key`];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days),
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=${sans}`, '-keyout', key, '-out', cert], { stdio: 'pipe' });
  return { cert, key };
}

test('ocm doctor with a certificate the admin brings: expiry, each user host covered (wildcards too), the key its own', async (t) => {
  const dir = tempDir(t);
  const root = `${dir}/root`;
  assert.equal((await ocm(['init', '--domain', 'your-ai.com'], { root })).code, 0);
  for (const name of ['alice', 'bob']) assert.equal((await ocm(['add', name, '--no-start'], { root })).code, 0);
  const yaml = readFileSync(`${root}/ocm.yaml`, 'utf8');
  const useCert = (cert: string, key: string): void => writeFileSync(`${root}/ocm.yaml`, yaml.replace('tls: {}', `tls:\n    certificate: ${cert}\n    key: ${key}`));
  const tlsFindings = async (): Promise<Array<[string, string, boolean, boolean, string]>> => {
    const doctor = await ocm(['doctor', '--json'], { root });
    const findings = JSON.parse(doctor.stdout) as Array<{ scope: string; check: string; ok: boolean; warn?: boolean; detail: string }>;
    return findings.filter((f) => f.scope === 'tls' || f.check === 'certificate').map((f) => [f.scope, f.check, f.ok, f.warn === true, f.detail]);
  };

  // Alice's name only, 5 days left, and another certificate's key.
  const narrow = pair(dir, 'narrow', 5, 'DNS:alice.your-ai.com');
  const other = pair(dir, 'other', 90, 'DNS:other.your-ai.com');
  useCert(narrow.cert, other.key);
  const bad = await tlsFindings();
  assert.deepEqual(bad.map(([scope, check, ok, warn]) => [scope, check, ok, warn]), [
    ['tls', 'certificate', true, true], ['tls', 'key', false, false], ['alice', 'certificate', true, false], ['bob', 'certificate', false, false],
  ]);
  assert.match(bad[0]?.[4] ?? '', new RegExp(`^${narrow.cert} expires \\S+ \\(4 days\\); ocm does not renew it$`));
  assert.equal(bad[1]?.[4], `${other.key} is not the key of ${narrow.cert}: HTTPS cannot start`);
  assert.equal(bad[3]?.[4], `${narrow.cert} does not cover bob.your-ai.com: browsers refuse it (it names alice.your-ai.com)`);

  // A wildcard with its own key, 90 days: every check passes.
  const wildcard = pair(dir, 'wildcard', 90, 'DNS:your-ai.com,DNS:*.your-ai.com');
  useCert(wildcard.cert, wildcard.key);
  assert.deepEqual((await tlsFindings()).map(([scope, check, ok, warn]) => [scope, check, ok, warn]), [
    ['tls', 'certificate', true, false], ['tls', 'key', true, false], ['alice', 'certificate', true, false], ['bob', 'certificate', true, false],
  ]);
  // The same DNS and listener checks as with ACME.
  const all = JSON.parse((await ocm(['doctor', '--json'], { root })).stdout) as Array<{ scope: string; check: string; ok: boolean; warn?: boolean; detail: string }>;
  assert.deepEqual(all.filter((f) => f.check === 'dns').map((f) => [f.scope, f.ok]), [['alice', true], ['bob', true]], 'DNS is never a failure, at most a warning');
  assert.ok(all.some((f) => f.scope === 'proxy' && f.check === 'listening' && /settings\.proxy\.listen/.test(f.detail)), 'the listener is checked');
});
