// ocm's rendered nginx confs (templates/nginx-*.conf.hbs) in a real nginx:
// plain requests reuse a pool of upstream connections, WebSockets still
// upgrade, the client's X-Forwarded-For never reaches the gateway, and two
// roots' confs live in one nginx without their upstreams clashing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { parseManifest, renderDeployment, TEMPLATE_FILES, type TemplateName, type TemplateSources } from '@ocm/core';
import { httpGet, openWs } from './clients.js';
import { freePort, startNginx, type RunningNginx } from './start-nginx.js';

const templatesDir = new URL('../../../templates/', import.meta.url);
const LOCAL_CLIENT = '192.0.2.10';

/** A stand-in gateway that counts the TCP connections it accepted and says what it saw. */
interface Upstream {
  who: string;
  port: number;
  connections: number;
  sockets: Socket[];
  close(): Promise<void>;
}

/** `near`: listen on the first free port after it (one root's ports must lie within 4096 of each other). */
async function startUpstream(who: string, near?: number): Promise<Upstream> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/own-502') {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`${who}'s own 502`);
        return;
      }
      const body = JSON.stringify({ who, method: req.method, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  // Longer than nginx's keepalive_timeout, so that only nginx closes an idle connection.
  server.keepAliveTimeout = 60_000;
  const upstream: Upstream = { who, port: 0, connections: 0, sockets: [], close: async () => {} };
  server.on('connection', (socket: Socket) => {
    upstream.connections++;
    upstream.sockets.push(socket);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(JSON.stringify({ who, url: req.url, headers: req.headers, remoteAddress: req.socket.remoteAddress, protocol: ws.protocol }));
    ws.on('message', (data) => ws.send(`${who}:${(data as Buffer).toString()}`));
  });
  for (let port = near === undefined ? 0 : near + 1; ; port++) {
    server.listen(port, '127.0.0.1');
    const [event] = await Promise.race([once(server, 'listening').then(() => ['listening']), once(server, 'error').then(() => ['error'])]);
    if (event === 'listening') break;
    if (near === undefined || port > near + 100) throw new Error(`${who}: no free port near ${near ?? 0}`);
  }
  upstream.port = (server.address() as AddressInfo).port;
  upstream.close = async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close').catch(() => {});
  };
  return upstream;
}

const templates = async (): Promise<TemplateSources> =>
  Object.fromEntries(await Promise.all(Object.entries(TEMPLATE_FILES).map(async ([name, file]) =>
    [name, await readFile(new URL(file, templatesDir), 'utf8')]))) as Record<TemplateName, string>;

/** The nginx files `ocm render` writes for a root with these users, listening on 127.0.0.1:port. */
function renderNginx(sources: TemplateSources, root: string, project: string, domain: string, port: number, users: Upstream[]): Map<string, string> {
  const manifest = parseManifest(`settings:
  project: ${project}
  domain: ${domain}
  ports:
    base: ${Math.min(...users.map((u) => u.port))}
    max: ${Math.max(...users.map((u) => u.port))}
  proxy:
    mode: nginx
    nginx:
      httpPort: ${port}
      listenAddress: 127.0.0.1
users:
${users.map((u) => `  - name: ${u.who}\n    port: ${u.port}\n`).join('')}`);
  const tokens = new Map(manifest.users.map((u) => [u.name, `TOKEN-${u.name}`]));
  const rendered = renderDeployment(manifest, { root, tokens, templates: sources, localClientAddress: LOCAL_CLIENT });
  return new Map(rendered.files.filter((f) => f.path.startsWith('nginx/')).map((f) => [f.path.slice('nginx/'.length), f.content]));
}

interface Seen { who: string; method: string; headers: IncomingHttpHeaders }

describe('the rendered nginx confs in a real nginx', () => {
  let dir: string;
  let nginx: RunningNginx | undefined;
  const upstreams: Upstream[] = [];
  let alice: Upstream;
  let cat: Upstream;
  let otherAlice: Upstream;
  let stopped: Upstream;
  let aliceConf: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocm-nginx-keepalive-'));
    alice = await startUpstream('alice');
    cat = await startUpstream('cat-2', alice.port);
    otherAlice = await startUpstream('alice');
    // dan's gateway is stopped: nothing listens on his port once he is rendered.
    stopped = await startUpstream('dan', cat.port);
    upstreams.push(alice, cat, otherAlice);
    const port = await freePort();
    const sources = await templates();
    const confDir = join(dir, 'conf.d');
    await mkdir(confDir, { recursive: true });
    // Root one: files straight in the conf dir nginx includes.
    const one = renderNginx(sources, join(dir, 'root-one'), 'one', 'one.test', port, [alice, cat, stopped]);
    await stopped.close();
    for (const [name, content] of one) await writeFile(join(confDir, name), content);
    aliceConf = one.get('alice.conf') ?? '';
    // Root two: same user name, its own project and domain, included from the same http {} block.
    const twoDir = join(dir, 'root-two');
    await mkdir(twoDir, { recursive: true });
    for (const [name, content] of renderNginx(sources, join(dir, 'root-two'), 'two', 'two.test', port, [otherAlice])) await writeFile(join(twoDir, name), content);
    await writeFile(join(confDir, 'zz-root-two.conf'), `include ${twoDir}/*.conf;\n`);
    nginx = await startNginx(dir, { port });
  });

  after(async () => {
    await nginx?.stop();
    for (const u of upstreams) await u.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (host: string, headers = {}, method = 'GET'): Promise<Seen> => {
    const answer = await httpGet((nginx as RunningNginx).port, host, '/', headers, method);
    assert.equal(answer.status, 200, `${method} ${host}: ${answer.body}`);
    return JSON.parse(answer.body) as Seen;
  };

  it('renders one upstream per user with keepalive, and proxies to it', () => {
    assert.match(aliceConf, /^upstream ocm_one_alice \{$/m);
    assert.match(aliceConf, new RegExp(`^ {4}server 127\\.0\\.0\\.1:${alice.port};$`, 'm'));
    assert.match(aliceConf, /^ {4}keepalive 64;$/m);
    assert.match(aliceConf, /^ {8}proxy_pass http:\/\/ocm_one_alice;$/m);
  });

  it('plain requests reuse upstream connections instead of opening one each', async () => {
    const before = alice.connections;
    const n = 40;
    for (let i = 0; i < n; i++) {
      // Every client request comes on a connection of its own (httpGet uses no agent).
      const seen = await get('alice.one.test', i % 2 === 0 ? {} : { 'content-length': '0' }, i % 2 === 0 ? 'GET' : 'POST');
      assert.equal(seen.who, 'alice');
      assert.equal(seen.headers.connection, undefined, 'no "Connection: close" upstream');
    }
    const opened = alice.connections - before;
    assert.ok(opened <= 2, `${n} requests through nginx opened ${opened} upstream connections`);
  });

  it('passes a WebSocket upgrade on, and plain requests still work after it', async () => {
    const socket = await openWs(`ws://127.0.0.1:${(nginx as RunningNginx).port}/`, 'alice.one.test', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(socket.hello.who, 'alice');
    assert.equal(socket.hello.headers.connection, 'upgrade');
    assert.equal(socket.hello.headers.upgrade, 'websocket');
    assert.equal(socket.hello.headers['x-forwarded-for'], LOCAL_CLIENT);
    assert.equal(await socket.echo('via nginx'), 'alice:via nginx');
    socket.ws.close();
    await socket.closed;
    assert.equal((await get('alice.one.test')).who, 'alice');
  });

  it('overwrites X-Forwarded-For: a client-sent one never reaches the gateway', async () => {
    const seen = await get('alice.one.test', { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' });
    assert.equal(seen.headers['x-forwarded-for'], LOCAL_CLIENT, 'a client on this host is forwarded as the host\'s non-loopback address');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'alice.one.test');
    assert.equal(seen.headers.host, 'alice.one.test');
  });

  it('keeps every user\'s and every root\'s upstream apart', async () => {
    assert.equal((await get('cat-2.one.test')).who, 'cat-2');
    const two = await get('alice.two.test');
    assert.equal(two.who, 'alice');
    assert.ok(otherAlice.connections >= 1, 'root two\'s alice answered, not root one\'s');
    assert.equal((await httpGet((nginx as RunningNginx).port, 'nobody.one.test')).status, 404);
  });

  it('answers a stopped gateway with ocm\'s 503 page, and passes the gateway\'s own 502 on', async () => {
    const port = (nginx as RunningNginx).port;
    const down = await httpGet(port, 'dan.one.test', '/chat?session=main');
    assert.equal(down.status, 503, down.body);
    assert.equal(down.headers['retry-after'], '5');
    assert.equal(down.headers['cache-control'], 'no-store');
    assert.match(String(down.headers['content-type']), /^text\/html/);
    assert.match(down.body, /<title>Assistant not running<\/title>/);
    assert.match(down.body, /<code>dan\.one\.test<\/code>/);
    assert.match(down.body, /<meta http-equiv="refresh" content="5">/);
    const own = await httpGet(port, 'alice.one.test', '/own-502');
    assert.equal(own.status, 502);
    assert.equal(own.body, 'alice\'s own 502');
  });

  it('closes an idle upstream connection itself, before a node gateway would (5 s)', async () => {
    await get('alice.one.test');
    const open = alice.sockets.filter((s) => !s.destroyed && !s.readableEnded);
    assert.ok(open.length >= 1, 'a pooled connection stays open');
    const started = Date.now();
    await Promise.all(open.map((s) => Promise.race([
      once(s, 'end'),
      once(s, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('nginx kept an idle upstream connection open for 8 s')), 8_000).unref()),
    ])));
    assert.ok(Date.now() - started < 5_000, `closed after ${Date.now() - started} ms`);
  });
});
