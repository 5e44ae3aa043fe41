// `ocm tls` without a daemon: listing reads the root; renewing needs the
// daemon and says so in one line with a hint; a root without ACME is told how.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ocm, tempDir } from './helpers/cli.js';
import { freePort } from './support/docker.js';

test('ocm tls: listing from the root, renew refused without a daemon, a hint when ACME is off', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'your-ai.com'], { root })).code, 0);

  const off = await ocm(['tls'], { root });
  assert.notEqual(off.code, 0);
  assert.match(off.stderr, /^error: ACME is not configured in ocm\.yaml$/m);
  assert.match(off.stderr, /^hint: set settings\.tls\.acme\.email/m);

  const adminPort = await freePort();
  const path = `${root}/ocm.yaml`;
  writeFileSync(path, readFileSync(path, 'utf8')
    .replace('tls: {}', 'tls:\n    acme:\n      email: admin@your-ai.com')
    .replace(/(proxy:\n(?:[^\n]*\n)*? {4}listen: )[^\n]+/, '$1127.0.0.1:18080\n    listenTls: 127.0.0.1:18443')
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
});
