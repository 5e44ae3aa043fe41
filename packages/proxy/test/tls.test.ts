import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { isOcmError } from '@ocm/core';
import { createEmbeddedProxy, StaticRouteTable, type EmbeddedProxy } from '@ocm/proxy';
import { httpGet, openWs } from './clients.js';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';

const hasOpenssl = await execa('openssl', ['version']).then(
  () => true,
  () => false,
);

describe('embedded proxy with TLS', { skip: hasOpenssl ? false : 'openssl is not installed' }, () => {
  let dir: string;
  let cert: Buffer;
  let alice: FakeGateway;
  let proxy: EmbeddedProxy;
  let port: number;
  let redirectPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocm-proxy-tls-'));
    await execa('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=ocm test', '-addext', 'subjectAltName=DNS:alice.localhost',
    ]);
    cert = await readFile(join(dir, 'cert.pem'));
    alice = await startFakeGateway('alice');
    const routes = new StaticRouteTable([['alice.localhost', { user: 'alice', port: alice.port, upstreamHost: '127.0.0.1', state: 'up' }]]);
    proxy = await createEmbeddedProxy({ routes, tls: { certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') } });
    const address = await proxy.listen({ port: 0, redirectHttpPort: 0 });
    port = address.port;
    redirectPort = address.redirectHttpPort ?? 0;
    assert.equal(address.proto, 'https');
  });

  after(async () => {
    await proxy?.close();
    await alice?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and tells the gateway X-Forwarded-Proto: https', async () => {
    const req = request({ host: '127.0.0.1', port, servername: 'alice.localhost', ca: cert, headers: { host: 'alice.localhost' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const seen = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { who: string; headers: Record<string, string> };
    assert.equal(res.statusCode, 200);
    assert.equal(seen.who, 'alice');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('proxies wss:// WebSockets', async () => {
    const socket = await openWs(`wss://127.0.0.1:${port}/`, 'alice.localhost', { ca: cert, servername: 'alice.localhost' });
    assert.equal(socket.hello.who, 'alice');
    assert.equal(socket.hello.headers['x-forwarded-proto'], 'https');
    assert.equal(await socket.echo('secure'), 'alice:secure');
    socket.ws.close();
    await socket.closed;
  });

  it('redirects plain HTTP to HTTPS for configured hosts only', async () => {
    const known = await httpGet(redirectPort, 'alice.localhost:80', '/chat?x=1');
    assert.equal(known.status, 308);
    assert.equal(known.headers.location, `https://alice.localhost:${port}/chat?x=1`);
    const unknown = await httpGet(redirectPort, 'mallory.localhost', '/');
    assert.equal(unknown.status, 404);
  });

  it('reports unreadable certificate files as OCM_E_PROXY_LISTEN', async () => {
    const routes = new StaticRouteTable();
    await assert.rejects(
      createEmbeddedProxy({ routes, tls: { certPath: join(dir, 'missing.pem'), keyPath: join(dir, 'key.pem') } }),
      (err: unknown) => isOcmError(err) && err.code === 'OCM_E_PROXY_LISTEN' && err.message.includes('missing.pem'),
    );
  });
});
