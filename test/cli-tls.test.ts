// `ocm tls` without a daemon: listing reads the root; renewing needs the
// daemon and says so in one line with a hint; a root without ACME is told how.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
