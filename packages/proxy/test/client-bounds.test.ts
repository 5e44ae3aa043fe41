// The embedded proxy bounds how long a client may take to send a request
// (headers, then body), never how long the answer or a WebSocket lasts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedProxy, StaticRouteTable, type EmbeddedProxy } from '@ocm/proxy';
import { openWs } from './clients.js';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';

const HEADERS_MS = 1_000;
const REQUEST_MS = 2_000;

function halfSent(port: number, text: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      let answer = '';
      socket.on('data', (d: Buffer) => { answer += d.toString(); });
      const closed = new Promise<string>((done) => socket.on('close', () => done(answer.split('\r\n')[0] ?? '')));
      resolve({ socket, closed });
    });
    socket.on('error', reject);
  });
}

describe('embedded proxy client bounds', () => {
  let alice: FakeGateway;
  let proxy: EmbeddedProxy;
  let port: number;

  before(async () => {
    alice = await startFakeGateway('alice');
    const routes = new StaticRouteTable([['alice.localhost', { user: 'alice', port: alice.port, upstreamHost: '127.0.0.1', state: 'up' }]]);
    proxy = await createEmbeddedProxy({ routes, headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS });
    ({ port } = await proxy.listen({ port: 0 }));
  });

  after(async () => {
    await proxy.close();
    await alice.close();
  });

  it('closes 300 requests whose headers never finish', async () => {
    const open = await Promise.all(Array.from({ length: 300 }, () => halfSent(port, 'GET / HTTP/1.1\r\nHost: alice.localhost\r\n')));
    const guard = setTimeout(() => { for (const o of open) o.socket.destroy(); }, 20_000);
    const answers = await Promise.all(open.map((o) => o.closed));
    clearTimeout(guard);
    assert.deepEqual([...new Set(answers)], ['HTTP/1.1 408 Request Timeout']);
  });

  it('closes a request whose body never finishes', async () => {
    const o = await halfSent(port, 'POST /upload HTTP/1.1\r\nHost: alice.localhost\r\nContent-Length: 1000\r\n\r\nabc');
    let cutByTest = false;
    const guard = setTimeout(() => { cutByTest = true; o.socket.destroy(); }, 20_000);
    const closedWith = await o.closed;
    clearTimeout(guard);
    assert.equal(cutByTest, false, 'the proxy never closed the half-sent upload');
    // The proxy had already started forwarding: the upload is cut, whatever the status line.
    assert.notEqual(closedWith, 'HTTP/1.1 200 OK');
  });

  it('keeps a WebSocket and a slow answer alive well past both bounds', async () => {
    const socket = await openWs(`ws://127.0.0.1:${port}/`, 'alice.localhost');
    const req = request({ host: '127.0.0.1', port, path: '/slow', headers: { host: 'alice.localhost' } });
    req.end();
    const answer = once(req, 'response') as Promise<[IncomingMessage]>;
    await sleep(REQUEST_MS + HEADERS_MS + 2_000);
    alice.releaseSlow();
    const [res] = await answer;
    assert.equal(res.statusCode, 200);
    res.resume();
    assert.equal(await socket.echo('still here'), 'alice:still here');
    socket.ws.close();
  });
});
