import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedProxy, StaticRouteTable, type EmbeddedProxy, type Route } from '@ocm/proxy';
import { httpGet, httpJson, openWs, rawExchange, wsRefusal } from './clients.js';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';

const up = (user: string, port: number): Route => ({ user, port, upstreamHost: '127.0.0.1', state: 'up' });

describe('embedded proxy', () => {
  let alice: FakeGateway;
  let bob: FakeGateway;
  let table: StaticRouteTable;
  let proxy: EmbeddedProxy;
  let port: number;
  let wsUrl: string;

  before(async () => {
    alice = await startFakeGateway('alice');
    bob = await startFakeGateway('bob');
    table = new StaticRouteTable([
      ['alice.localhost', up('alice', alice.port)],
      ['bob.localhost', up('bob', bob.port)],
    ]);
    proxy = await createEmbeddedProxy({ routes: table, drainGraceMs: 200 });
    ({ port } = await proxy.listen({ port: 0 }));
    wsUrl = `ws://127.0.0.1:${port}/`;
  });

  after(async () => {
    await proxy.close();
    await alice.close();
    await bob.close();
  });

  it('routes HTTP by Host to each user and preserves Host, path and query', async () => {
    const a = await httpJson(port, `alice.localhost:${port}`, '/chat/x?q=a+b&r=%2F');
    const b = await httpJson(port, `bob.localhost:${port}`, '/');
    assert.equal(a.status, 200);
    assert.equal(a.who, 'alice');
    assert.equal(a.url, '/chat/x?q=a+b&r=%2F');
    assert.equal((a.headers as Record<string, string>).host, `alice.localhost:${port}`);
    assert.equal(b.who, 'bob');
  });

  it('sets X-Forwarded-* from the socket and overwrites what the client sent', async () => {
    const seen = await httpJson<{ headers: Record<string, string> }>(port, 'alice.localhost', '/', {
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=1.2.3.4',
      'x-real-ip': '1.2.3.4',
    });
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'alice.localhost');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers.forwarded, undefined);
  });

  it('drops hop-by-hop headers both ways', async () => {
    const seen = await httpJson<{ headers: Record<string, string> }>(port, 'alice.localhost', '/', {
      connection: 'keep-alive, x-client-hop',
      'x-client-hop': 'secret',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic eDp5',
      te: 'trailers',
    });
    for (const name of ['x-client-hop', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te']) {
      assert.equal(seen.headers[name], undefined, name);
    }
    const answer = await httpGet(port, 'alice.localhost', '/hop');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-upstream-hop'], undefined);
    assert.equal(answer.headers['keep-alive'], undefined);
  });

  it('passes an upstream 503 through once, without retrying', async () => {
    const answer = await httpGet(port, 'alice.localhost', '/status-503');
    assert.equal(answer.status, 503);
    assert.equal((JSON.parse(answer.body) as { who: string }).who, 'alice');
  });

  it('proxies WebSockets on / to the right user with forwarding headers, Origin and subprotocol intact', async () => {
    const a = await openWs(wsUrl, `alice.localhost:${port}`, {
      protocols: ['first', 'second'],
      origin: `http://alice.localhost:${port}`,
      headers: { 'x-forwarded-for': '1.2.3.4' },
    });
    const b = await openWs(`${wsUrl}socket?x=1`, 'bob.localhost');
    try {
      assert.equal(a.hello.who, 'alice');
      assert.equal(a.hello.protocol, 'second');
      assert.equal(a.ws.protocol, 'second');
      assert.equal(a.hello.headers.host, `alice.localhost:${port}`);
      assert.equal(a.hello.headers.origin, `http://alice.localhost:${port}`);
      assert.equal(a.hello.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(a.hello.headers['x-forwarded-proto'], 'http');
      assert.equal(b.hello.who, 'bob');
      assert.equal(b.hello.url, '/socket?x=1');
      assert.equal(await a.echo('hi'), 'alice:hi');
      assert.equal(await b.echo('hi'), 'bob:hi');
      assert.deepEqual(proxy.openWebSockets(), new Map([['alice', 1], ['bob', 1]]));
    } finally {
      a.ws.close();
      b.ws.close();
      await Promise.all([a.closed, b.closed]);
    }
  });

  it('echoes large binary WebSocket messages intact', async () => {
    const a = await openWs(wsUrl, 'alice.localhost');
    try {
      const big = Buffer.alloc(5 * 1024 * 1024 + 3, 7);
      big.writeUInt32BE(0xdeadbeef, 100);
      a.ws.send(big);
      const [data] = (await once(a.ws, 'message')) as [Buffer];
      assert.ok(Buffer.compare(data, big) === 0);
      assert.equal(await a.echo('after'), 'alice:after');
    } finally {
      a.ws.close();
      await a.closed;
    }
  });

  describe('host isolation', () => {
    const aliceVariants = ['ALICE.LOCALHOST', 'Alice.Localhost:8080', 'alice.localhost.', 'alice.localhost.:443'];
    const refused: Array<[string, number]> = [
      ['alice.localhost.evil', 404],
      ['alice.localhost.evil:80', 404],
      ['evil.alice.localhost', 404],
      ['localhost', 404],
      ['127.0.0.1', 404],
      ['alice.localhost:80@bob.localhost', 400],
      ['alice.localhost:bob', 400],
      ['alice.localhost..', 400],
      ['alice_x.localhost', 400],
      ['alice.localhost/bob.localhost', 400],
      ['[::1]', 400],
    ];

    it('sends every spelling of alice to alice, over HTTP and WebSocket', async () => {
      for (const host of aliceVariants) {
        assert.equal((await httpJson(port, host)).who, 'alice', host);
        const socket = await openWs(wsUrl, host);
        assert.equal(socket.hello.who, 'alice', host);
        socket.ws.close();
        await socket.closed;
      }
    });

    it('refuses hosts that are not exactly configured, over HTTP and WebSocket', async () => {
      for (const [host, status] of refused) {
        const answer = await httpGet(port, host);
        assert.equal(answer.status, status, host);
        assert.doesNotMatch(answer.body, /"who"/, host);
        const refusal = await wsRefusal(wsUrl, host);
        assert.equal(refusal.status, status, `ws ${host}`);
      }
    });

    it('lets neither an absolute-form target nor a second Host header pick bob', async () => {
      const absolute = await rawExchange(
        port,
        `GET http://bob.localhost/ HTTP/1.1\r\nHost: alice.localhost\r\nConnection: close\r\n\r\n`,
      );
      assert.match(absolute, /^HTTP\/1.1 400/);
      assert.doesNotMatch(absolute, /"who"/);
      const twoHosts = await rawExchange(
        port,
        `GET / HTTP/1.1\r\nHost: alice.localhost\r\nHost: bob.localhost\r\nConnection: close\r\n\r\n`,
      );
      assert.doesNotMatch(twoHosts, /"who":"bob"/);
      const wsAbsolute = await rawExchange(
        port,
        `GET ws://bob.localhost/ HTTP/1.1\r\nHost: alice.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      assert.match(wsAbsolute, /^HTTP\/1.1 400/);
    });

    it('resolves every request on a reused or pipelined connection on its own', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (const who of ['alice', 'bob', 'alice', 'bob']) {
          const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: `${who}.localhost` } });
          req.end();
          const [res] = (await once(req, 'response')) as [IncomingMessage];
          const chunks: Buffer[] = [];
          for await (const chunk of res) chunks.push(chunk as Buffer);
          assert.equal((JSON.parse(Buffer.concat(chunks).toString()) as { who: string }).who, who);
        }
      } finally {
        agent.destroy();
      }
      const pipelined = await rawExchange(
        port,
        'GET /1 HTTP/1.1\r\nHost: bob.localhost\r\n\r\n' +
          'GET /2 HTTP/1.1\r\nHost: alice.localhost\r\n\r\n' +
          'GET /3 HTTP/1.1\r\nHost: bob.localhost\r\nConnection: close\r\n\r\n',
      );
      const answers = [...pipelined.matchAll(/"who":"(\w+)","method":"GET","url":"(\/\d)"/g)].map((m) => `${m[2]}:${m[1]}`);
      assert.deepEqual(answers, ['/1:bob', '/2:alice', '/3:bob']);
    });

    it('refuses upgrades other than WebSocket', async () => {
      const h2c = await rawExchange(
        port,
        `GET / HTTP/1.1\r\nHost: alice.localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
      );
      assert.match(h2c, /^HTTP\/1.1 400/);
    });
  });

  describe('pages', () => {
    it('answers an unknown subdomain with a small 404 page', async () => {
      const answer = await httpGet(port, 'carol.localhost');
      assert.equal(answer.status, 404);
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      assert.match(answer.body, /carol\.localhost/);
      assert.match(answer.body, /not configured/);
      assert.doesNotMatch(answer.body, /<script|https?:\/\//);
    });

    it('answers a stopped user with 503, Retry-After and a meta refresh, over HTTP and WebSocket', async () => {
      table.set([
        ['alice.localhost', up('alice', alice.port)],
        ['bob.localhost', { ...up('bob', bob.port), state: 'down' }],
      ]);
      try {
        const answer = await httpGet(port, 'bob.localhost');
        assert.equal(answer.status, 503);
        assert.equal(answer.headers['retry-after'], '5');
        assert.match(answer.body, /<meta http-equiv="refresh" content="5">/);
        assert.match(answer.body, /not running/);
        const refusal = await wsRefusal(wsUrl, 'bob.localhost');
        assert.equal(refusal.status, 503);
        assert.equal(refusal.headers['retry-after'], '5');
      } finally {
        table.set([
          ['alice.localhost', up('alice', alice.port)],
          ['bob.localhost', up('bob', bob.port)],
        ]);
      }
    });

    it('answers 503 when the upstream refuses connections, over HTTP and WebSocket', async () => {
      const gone = await startFakeGateway('gone');
      const gonePort = gone.port;
      await gone.close();
      table.set([
        ['alice.localhost', up('alice', alice.port)],
        ['gone.localhost', up('gone', gonePort)],
      ]);
      try {
        const answer = await httpGet(port, 'gone.localhost');
        assert.equal(answer.status, 503);
        assert.equal(answer.headers['retry-after'], '5');
        assert.match(answer.body, /not running/);
        const post = await httpGet(port, 'gone.localhost', '/upload', { 'content-length': '0' }, 'POST');
        assert.equal(post.status, 503);
        const refusal = await wsRefusal(wsUrl, 'gone.localhost');
        assert.equal(refusal.status, 503);
      } finally {
        table.set([
          ['alice.localhost', up('alice', alice.port)],
          ['bob.localhost', up('bob', bob.port)],
        ]);
      }
    });
  });

  it("a local browser is forwarded as the host's own address, over HTTP and WebSocket", async () => {
    const direct = await createEmbeddedProxy({ routes: table, localClientAddress: '192.0.2.10' });
    try {
      const { port: directPort } = await direct.listen({ port: 0 });
      const seen = await httpJson<{ headers: Record<string, string> }>(directPort, 'alice.localhost', '/', {
        'x-forwarded-for': '1.2.3.4',
      });
      assert.equal(seen.headers['x-forwarded-for'], '192.0.2.10');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      const socket = await openWs(`ws://127.0.0.1:${directPort}/`, 'alice.localhost', { headers: { 'x-forwarded-for': '1.2.3.4' } });
      assert.equal(socket.hello.headers['x-forwarded-for'], '192.0.2.10');
      socket.ws.close();
      await socket.closed;
    } finally {
      await direct.close();
    }
  });

  it('takes route changes live while a WebSocket to alice stays open', async () => {
    table.set([['alice.localhost', up('alice', alice.port)]]);
    const a = await openWs(wsUrl, 'alice.localhost');
    try {
      assert.equal((await httpGet(port, 'bob.localhost')).status, 404);
      table.set([
        ['alice.localhost', up('alice', alice.port)],
        ['bob.localhost', up('bob', bob.port)],
      ]);
      assert.equal((await httpJson(port, 'bob.localhost')).who, 'bob');
      assert.equal(await a.echo('one'), 'alice:one');
      table.set([['alice.localhost', up('alice', alice.port)]]);
      assert.equal((await httpGet(port, 'bob.localhost')).status, 404);
      assert.equal((await wsRefusal(wsUrl, 'bob.localhost')).status, 404);
      assert.equal(await a.echo('two'), 'alice:two');
    } finally {
      a.ws.close();
      await a.closed;
      table.set([
        ['alice.localhost', up('alice', alice.port)],
        ['bob.localhost', up('bob', bob.port)],
      ]);
    }
  });
});
