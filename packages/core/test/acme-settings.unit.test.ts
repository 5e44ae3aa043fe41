// settings.tls.acme and settings.proxy.listenTls: defaults, origins, own ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME_DEFAULT_DIRECTORY, ownPorts, parseManifest, userOrigin } from '@ocm/core';

const acme = (proxy: string): string => `settings:\n  domain: your-ai.com\n  tls:\n    acme:\n      email: admin@your-ai.com\n  proxy:\n${proxy}`;

test('acme defaults to the public directory and makes origins https on listenTls', () => {
  const m = parseManifest(acme('    listen: 0.0.0.0:8080\n    listenTls: 0.0.0.0:8443\n'));
  assert.equal(m.settings.tls.acme?.directory, ACME_DEFAULT_DIRECTORY);
  assert.equal(userOrigin(m, 'alice'), 'https://alice.your-ai.com:8443');
  assert.equal(ownPorts(m).get(8443), 'settings.proxy.listenTls');
});

test('the default HTTPS port is left out of the origin', () => {
  assert.equal(userOrigin(parseManifest(acme('    listen: 0.0.0.0:80\n    listenTls: 0.0.0.0:443\n')), 'bob'), 'https://bob.your-ai.com');
});

test('nginx mode serves ACME certificates on its HTTPS port', () => {
  assert.equal(userOrigin(parseManifest(acme('    mode: nginx\n')), 'alice'), 'https://alice.your-ai.com');
});

test('listenTls without certificates, or on the HTTP port, is refused in one line', () => {
  assert.throws(() => parseManifest('settings:\n  proxy:\n    listenTls: 0.0.0.0:8443\n'), /settings\.proxy\.listenTls: HTTPS needs certificates/);
  assert.throws(() => parseManifest(acme('    listen: 0.0.0.0:8443\n    listenTls: 127.0.0.1:8443\n')), /uses the port of settings\.proxy\.listen/);
});

test('a manifest without acme keeps its plain-HTTP origin', () => {
  assert.equal(userOrigin(parseManifest('settings:\n  domain: your-ai.com\n'), 'alice'), 'http://alice.your-ai.com:8080');
});
