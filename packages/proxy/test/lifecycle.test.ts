import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isOcmError } from '@ocm/core';
import { createEmbeddedProxy, StaticRouteTable } from '@ocm/proxy';
import { httpGet, openWs } from './clients.js';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';

describe('embedded proxy lifecycle', () => {
  let alice: FakeGateway;
  let routes: StaticRouteTable;

  before(async () => {
    alice = await startFakeGateway('alice');
    routes = new StaticRouteTable([['alice.localhost', { user: 'alice', port: alice.port, upstreamHost: '127.0.0.1', state: 'up' }]]);
  });

  after(async () => {
    await alice.close();
  });

  it('keeps an idle WebSocket open past the keep-alive timeout; only a request\'s arrival is bounded', async () => {
    const proxy = await createEmbeddedProxy({ routes, keepAliveTimeoutMs: 200 });
    const { port } = await proxy.listen({ port: 0 });
    try {
      assert.equal(proxy.app.server.timeout, 0);
      // Headers within 30 s and the whole request within 10 min (a hostile client
      // must not hold sockets forever); the answer and an upgraded socket are not bounded.
      assert.equal(proxy.app.server.requestTimeout, 600_000);
      const socket = await openWs(`ws://127.0.0.1:${port}/`, 'alice.localhost');
      await sleep(1_200);
      assert.equal(await socket.echo('still here'), 'alice:still here');
      socket.ws.close();
      await socket.closed;
    } finally {
      await proxy.close();
    }
  });

  it('drains on close: stops accepting, finishes in-flight requests, then closes WebSockets with 1001', async () => {
    const proxy = await createEmbeddedProxy({ routes, drainGraceMs: 400 });
    const { port } = await proxy.listen({ port: 0 });
    const socket = await openWs(`ws://127.0.0.1:${port}/`, 'alice.localhost');
    const slow = request({ host: '127.0.0.1', port, path: '/slow', headers: { host: 'alice.localhost' }, agent: false });
    slow.end();
    const slowAnswer = once(slow, 'response') as Promise<[IncomingMessage]>;
    await sleep(50); // the slow request is now waiting inside the gateway

    const started = Date.now();
    const closed = proxy.close();
    await assert.rejects(httpGet(port, 'alice.localhost'), /ECONNREFUSED/);
    assert.equal(await socket.echo('during grace'), 'alice:during grace');
    alice.releaseSlow();
    const [res] = await slowAnswer;
    assert.equal(res.statusCode, 200);
    res.resume();

    const { code } = await socket.closed;
    assert.equal(code, 1001);
    assert.ok(Date.now() - started >= 350, 'WebSockets were closed before the grace period ended');
    await closed;
    const deadline = Date.now() + 2_000;
    while (!alice.wsCloseCodes.includes(1001) && Date.now() < deadline) await sleep(10);
    assert.ok(alice.wsCloseCodes.includes(1001), `gateway saw ${alice.wsCloseCodes.join(',')}`);
  });

  it('reports a taken port as OCM_E_PROXY_LISTEN', async () => {
    const first = await createEmbeddedProxy({ routes });
    const second = await createEmbeddedProxy({ routes });
    try {
      const { port } = await first.listen({ port: 0 });
      await assert.rejects(second.listen({ port }), (err: unknown) => {
        assert.ok(isOcmError(err));
        assert.equal(err.code, 'OCM_E_PROXY_LISTEN');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
        return true;
      });
    } finally {
      await first.close();
      await second.close();
    }
  });
});
