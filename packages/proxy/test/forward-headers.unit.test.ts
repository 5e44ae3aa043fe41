import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddressOf, isLoopbackAddress, upstreamRequestHeaders } from '@ocm/proxy';

const spoofed = {
  host: 'alice.localhost:8080',
  'x-forwarded-for': '1.2.3.4',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '443',
  forwarded: 'for=1.2.3.4',
  'x-real-ip': '1.2.3.4',
  connection: 'keep-alive, x-hop',
  'x-hop': '1',
  origin: 'http://alice.localhost:8080',
};

describe('upstreamRequestHeaders', () => {
  it('replaces every client forwarding claim with the socket address', () => {
    const headers = upstreamRequestHeaders(spoofed, { clientAddress: '192.0.2.7', proto: 'https' });
    assert.deepEqual(headers, {
      host: 'alice.localhost:8080',
      origin: 'http://alice.localhost:8080',
      'x-forwarded-for': '192.0.2.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'alice.localhost:8080',
      'x-real-ip': '192.0.2.7',
    });
  });

  it("forwards a local client as the host's own non-loopback address, never as loopback or not at all", () => {
    for (const clientAddress of ['127.0.0.1', '127.3.2.1', '::1']) {
      const headers = upstreamRequestHeaders(spoofed, { clientAddress, proto: 'http', localClientAddress: '192.0.2.10' });
      assert.equal(headers['x-forwarded-for'], '192.0.2.10', clientAddress);
      assert.equal(headers['x-real-ip'], '192.0.2.10', clientAddress);
      assert.equal(headers['x-forwarded-proto'], 'http');
    }
  });

  it('forwards remote clients as themselves', () => {
    const headers = upstreamRequestHeaders(spoofed, { clientAddress: '198.51.100.7', proto: 'http', localClientAddress: '192.0.2.10' });
    assert.equal(headers['x-forwarded-for'], '198.51.100.7');
  });

  it('keeps the WebSocket handshake headers for upgrades', () => {
    const headers = upstreamRequestHeaders(
      { host: 'a.localhost', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' },
      { clientAddress: '127.0.0.1', proto: 'http' },
      { upgrade: true },
    );
    assert.equal(headers.connection, 'upgrade');
    assert.equal(headers.upgrade, 'websocket');
    assert.equal(headers['sec-websocket-key'], 'k');
  });
});

describe('client addresses', () => {
  it('unwraps IPv4-mapped addresses and knows loopback', () => {
    assert.equal(clientAddressOf('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(clientAddressOf('::1'), '::1');
    assert.equal(clientAddressOf(undefined), '');
    for (const address of ['127.0.0.1', '127.1.2.3', '::1']) assert.ok(isLoopbackAddress(address), address);
    for (const address of ['10.0.0.1', '::2', '', '1127.0.0.1']) assert.ok(!isLoopbackAddress(address), address);
  });
});
