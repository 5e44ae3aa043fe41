// Which hosts get certificates, when ACME is in charge, and what asks for a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateManifest } from '@ocm/core';
import { acmeActive, acmeHosts } from '../src/acme-hosts.js';
import { restartNeeded } from '../src/build-daemon.js';

const acme = { email: 'admin@your-ai.com' };
const proxy = { listen: '0.0.0.0:80', listenTls: '0.0.0.0:443' };

test('only enabled users get certificates', () => {
  const m = validateManifest({
    settings: { domain: 'your-ai.com', tls: { acme }, proxy },
    users: [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801, enabled: false }, { name: 'carol', port: 18802 }],
  });
  assert.deepEqual(acmeHosts(m), ['alice.your-ai.com', 'carol.your-ai.com']);
});

test('a certificate the admin brings wins over ACME', () => {
  assert.equal(acmeActive(validateManifest({ settings: { tls: { acme }, proxy } }).settings), true);
  assert.equal(acmeActive(validateManifest({ settings: { tls: { acme, certificate: '/c.pem', key: '/k.pem' }, proxy } }).settings), false);
  assert.equal(acmeActive(validateManifest({}).settings), false);
});

test('turning ACME on, changing it, or moving listenTls asks for a restart', () => {
  const settings = (s: Record<string, unknown>) => validateManifest({ settings: s }).settings;
  assert.deepEqual(restartNeeded(settings({}), settings({ tls: { acme }, proxy })), ['settings.proxy.listen', 'settings.proxy.listenTls', 'settings.tls.acme']);
  assert.deepEqual(restartNeeded(settings({ tls: { acme }, proxy }), settings({ tls: { acme }, proxy: { ...proxy, listenTls: '0.0.0.0:8443' } })), ['settings.proxy.listenTls']);
  assert.deepEqual(restartNeeded(settings({ tls: { acme }, proxy }), settings({ tls: { acme }, proxy })), []);
});
