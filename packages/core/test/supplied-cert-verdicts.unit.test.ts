// doctor's verdicts on a certificate the admin brings: names matched as
// browsers match them (a wildcard is one whole leftmost label), expiry, and
// a key that is not the certificate's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverageVerdict, dnsNames, keyMatchVerdict, nameCovers, suppliedExpiryVerdict } from '@ocm/core';

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 6);
const file = '/etc/ssl/your-ai.pem';

test('a wildcard covers exactly one label, case-insensitively; exact names match only themselves', () => {
  assert.equal(nameCovers('*.your-ai.com', 'alice.your-ai.com'), true);
  assert.equal(nameCovers('*.YOUR-AI.com', 'Alice.your-ai.com.'), true);
  assert.equal(nameCovers('*.your-ai.com', 'your-ai.com'), false);
  assert.equal(nameCovers('*.your-ai.com', 'a.b.your-ai.com'), false);
  assert.equal(nameCovers('*.your-ai.com', 'alice.your-ai.com.evil'), false);
  assert.equal(nameCovers('*.com', 'your-ai.com'), false, 'no wildcard for a whole top-level domain');
  assert.equal(nameCovers('a*.your-ai.com', 'alice.your-ai.com'), false, 'a partial-label wildcard is not honoured');
  assert.equal(nameCovers('alice.your-ai.com', 'alice.your-ai.com'), true);
  assert.equal(nameCovers('alice.your-ai.com', 'bob.your-ai.com'), false);
});

test('the DNS names of a subjectAltName as node prints it', () => {
  assert.deepEqual(dnsNames('DNS:your-ai.com, DNS:*.your-ai.com, IP Address:127.0.0.1'), ['your-ai.com', '*.your-ai.com']);
  assert.deepEqual(dnsNames(undefined), []);
});

test('coverage: a host the certificate does not name fails, with what it names', () => {
  assert.equal(coverageVerdict(file, 'alice.your-ai.com', ['*.your-ai.com']).level, 'ok');
  const miss = coverageVerdict(file, 'bob.your-ai.com', ['alice.your-ai.com']);
  assert.equal(miss.level, 'fail');
  assert.equal(miss.detail, `${file} does not cover bob.your-ai.com: browsers refuse it (it names alice.your-ai.com)`);
  assert.match(miss.fix ?? '', /names bob\.your-ai\.com or \*\.your-ai\.com$/);
  assert.match(coverageVerdict(file, 'bob.your-ai.com', []).detail, /it names no DNS name/);
});

test('expiry of the admin\'s certificate: ok, a warning below 14 days, a failure once expired', () => {
  assert.equal(suppliedExpiryVerdict(file, now + 14 * DAY, now).level, 'ok');
  const soon = suppliedExpiryVerdict(file, now + 5 * DAY + 1, now);
  assert.equal(soon.level, 'warn');
  assert.match(soon.detail, /\(5 days\); ocm does not renew it$/);
  assert.equal(suppliedExpiryVerdict(file, now, now).level, 'fail');
});

test('a key that is not the certificate\'s, or not a key, fails', () => {
  assert.equal(keyMatchVerdict(file, '/k.pem', true).level, 'ok');
  assert.equal(keyMatchVerdict(file, '/k.pem', false).detail, `/k.pem is not the key of ${file}: HTTPS cannot start`);
  assert.match(keyMatchVerdict(file, '/k.pem', new Error('unsupported')).detail, /^\/k\.pem cannot be used: unsupported$/);
});
