// doctor's HTTPS verdicts: expiry thresholds, the last order's error, DNS that
// only ever warns, and a listener that refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsVerdict, expiryVerdict, portVerdict } from '@ocm/core';

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 6);
const host = 'alice.your-ai.com';

test('expiry: ok with 14 days or more, a warning below, a failure once expired', () => {
  assert.equal(expiryVerdict(host, now + 60 * DAY, undefined, now).level, 'ok');
  assert.equal(expiryVerdict(host, now + 14 * DAY, undefined, now).level, 'ok');
  const soon = expiryVerdict(host, now + 13 * DAY + 1, undefined, now);
  assert.equal(soon.level, 'warn');
  assert.match(soon.detail, /\(13 days\)$/);
  const expired = expiryVerdict(host, now - 1, undefined, now);
  assert.equal(expired.level, 'fail');
  assert.match(expired.fix ?? '', /ocm tls renew/);
});

test('expiry: the last error is shown, and a host with none and no certificate fails', () => {
  assert.match(expiryVerdict(host, now + 60 * DAY, 'rate limited', now).detail, /last order failed: rate limited$/);
  assert.equal(expiryVerdict(host, now + 60 * DAY, 'rate limited', now).level, 'warn');
  assert.equal(expiryVerdict(host, undefined, undefined, now).level, 'warn');
  const failed = expiryVerdict(host, undefined, 'connection refused', now);
  assert.equal(failed.level, 'fail');
  assert.match(failed.detail, /has no certificate: connection refused$/);
});

test('dns: ok when it names one of this host\'s addresses, a warning otherwise, never a failure', () => {
  assert.equal(dnsVerdict(host, ['203.0.113.7', '192.0.2.10'], ['192.0.2.10']).level, 'ok');
  assert.equal(dnsVerdict(host, ['203.0.113.7'], ['192.0.2.10']).level, 'warn');
  const offline = dnsVerdict(host, new Error('getaddrinfo EAI_AGAIN'), ['192.0.2.10']);
  assert.equal(offline.level, 'warn');
  assert.match(offline.detail, /does not resolve here \(getaddrinfo EAI_AGAIN\)/);
});

test('ports: a listener that refuses fails with the setting named', () => {
  assert.equal(portVerdict('settings.proxy.listenTls', '127.0.0.1:443', undefined).level, 'ok');
  const refused = portVerdict('settings.proxy.listenTls', '127.0.0.1:443', 'ECONNREFUSED');
  assert.equal(refused.level, 'fail');
  assert.match(refused.detail, /^settings\.proxy\.listenTls 127\.0\.0\.1:443 refuses a local connection \(ECONNREFUSED\)$/);
});
