// The embedded proxy serving ACME certificates from a real CA (Pebble):
// HTTP-01 answered on the plain listener, each user's certificate chosen by
// SNI and verified with openssl against Pebble's root, a forced renewal
// served to new connections while an open WebSocket lives on, a user added
// live, and server names that are not users' ordering nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createAcmeIssuer, createCertManager, createCertStore, createChallengeTable, createSniTable, type Issuer } from '@ocm/acme';
import { createEmbeddedProxy, StaticRouteTable, type Route } from '@ocm/proxy';
import { opensslVerifies, servedSerial, startPebble } from './support/pebble.js';
import { startFakeGateway, type FakeGateway } from '../packages/proxy/test/fake-gateway.js';
import { httpGet, openWs } from '../packages/proxy/test/clients.js';

async function handshakeFails(port: number, servername: string, ca: Buffer): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername, ca });
  const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [Error];
  socket.destroy();
  return err.message;
}

test('embedded proxy: ACME certificates per user by SNI, HTTP-01, hot-swapped renewal, a user added live', async (t) => {
  const gateways = new Map<string, FakeGateway>();
  for (const name of ['alice', 'bob']) gateways.set(name, await startFakeGateway(name));
  t.after(async () => Promise.all([...gateways.values()].map((g) => g.close())));
  const route = (name: string): [string, Route] => [`${name}.your-ai.com`, { user: name, port: gateways.get(name)?.port ?? 0, upstreamHost: '127.0.0.1', state: 'up' }];
  const routes = new StaticRouteTable([route('alice')]);
  const challenges = createChallengeTable();
  const sni = createSniTable();
  const proxy = await createEmbeddedProxy({ routes, sni: (name) => sni.lookup(name), challenges: (path) => challenges.answer(path), drainGraceMs: 100 });
  const address = await proxy.listen({ port: 0, redirectHttpPort: 0 });
  t.after(() => proxy.close());
  const httpsPort = address.port;
  assert.equal(address.proto, 'https');

  const pebble = await startPebble(t, { httpPort: address.redirectHttpPort ?? 0 });
  const root = readFileSync(pebble.rootFile);
  const dir = mkdtempSync(join(tmpdir(), 'ocm-acme-proxy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = createCertStore(dir);
  const acme = createAcmeIssuer({ email: 'admin@your-ai.com', directory: pebble.directory, caFile: pebble.apiCaFile }, store, challenges);
  const ordered: string[] = [];
  const issuer: Issuer = { issue: (host) => (ordered.push(host), acme.issue(host)) };
  const manager = createCertManager({ store, issuer, onCertificate: (host, cert) => sni.load(host, cert.files) });
  t.after(() => manager.close());

  await manager.setHosts(['alice.your-ai.com']);
  await manager.idle();
  assert.deepEqual(manager.status().map((s) => s.lastError), [undefined]);
  assert.match(await opensslVerifies(httpsPort, 'alice.your-ai.com', pebble.rootFile), /Verify return code: 0 \(ok\)/);
  const first = await servedSerial(httpsPort, 'alice.your-ai.com', root);
  assert.equal(first, manager.certificate('alice.your-ai.com')?.serial);

  // HTTPS to the gateway, with HSTS and X-Forwarded-Proto; plain HTTP redirected, keeping the port.
  const req = request({ host: '127.0.0.1', port: httpsPort, servername: 'alice.your-ai.com', ca: root, headers: { host: 'alice.your-ai.com' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  const seen = JSON.parse(body) as { who: string; headers: Record<string, string> };
  assert.equal(seen.who, 'alice');
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  const redirect = await httpGet(address.redirectHttpPort ?? 0, 'alice.your-ai.com', '/chat?x=1');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.location, `https://alice.your-ai.com:${httpsPort}/chat?x=1`);

  // A WebSocket over TLS opened before the renewal keeps working after it; new handshakes get the new certificate.
  const socket = await openWs(`wss://127.0.0.1:${httpsPort}/`, 'alice.your-ai.com', { ca: root, servername: 'alice.your-ai.com' });
  assert.equal(await socket.echo('before'), 'alice:before');
  await manager.renew(['alice.your-ai.com'], true);
  const second = await servedSerial(httpsPort, 'alice.your-ai.com', root);
  assert.notEqual(second, first);
  assert.equal(second, manager.certificate('alice.your-ai.com')?.serial);
  assert.equal(await socket.echo('after'), 'alice:after');
  socket.ws.close();
  await socket.closed;

  // Server names that are not users' get no certificate and order nothing.
  assert.match(await handshakeFails(httpsPort, 'mallory.your-ai.com', root), /before secure TLS connection|alert|ECONNRESET/i);
  assert.match(await handshakeFails(httpsPort, 'bob.your-ai.com', root), /before secure TLS connection|alert|ECONNRESET/i);
  await manager.idle();
  assert.deepEqual(ordered, ['alice.your-ai.com', 'alice.your-ai.com']);

  // bob added while everything runs: routed and certified without a restart.
  routes.set([route('alice'), route('bob')]);
  await manager.setHosts(['alice.your-ai.com', 'bob.your-ai.com']);
  await manager.idle();
  await opensslVerifies(httpsPort, 'bob.your-ai.com', pebble.rootFile);
  assert.equal(await servedSerial(httpsPort, 'bob.your-ai.com', root), manager.certificate('bob.your-ai.com')?.serial);
  assert.deepEqual(ordered, ['alice.your-ai.com', 'alice.your-ai.com', 'bob.your-ai.com']);
});
