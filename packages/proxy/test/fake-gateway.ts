// A stand-in for one user's gateway on 127.0.0.1: every answer says who it is
// and what it saw, so tests can prove which upstream a request reached.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SeenRequest {
  who: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
}

export interface FakeGateway {
  name: string;
  port: number;
  /** Upload progress of the current /upload request, in bytes. */
  uploadedBytes: number;
  /** Resolved by a test to let /download send the rest of its body. */
  releaseDownload(): void;
  /** Server-side WebSocket close codes, in order. */
  wsCloseCodes: number[];
  /** Resolved by a test to let /slow answer. */
  releaseSlow(): void;
  close(): Promise<void>;
}

export const DOWNLOAD_CHUNK = 1024 * 1024;

export async function startFakeGateway(name: string, port = 0): Promise<FakeGateway> {
  let releaseDownload: () => void = () => {};
  let downloadGate = new Promise<void>((resolve) => (releaseDownload = resolve));
  let releaseSlow: () => void = () => {};
  let slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  const gateway: FakeGateway = {
    name,
    port: 0,
    uploadedBytes: 0,
    releaseDownload: () => releaseDownload(),
    releaseSlow: () => releaseSlow(),
    wsCloseCodes: [],
    close: async () => {},
  };

  const server: Server = createServer((req, res) => {
    const seen: SeenRequest = {
      who: name,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress ?? '',
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/upload') {
      const hash = createHash('sha256');
      gateway.uploadedBytes = 0;
      req.on('data', (chunk: Buffer) => {
        gateway.uploadedBytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => json(res, { ...seen, bytes: gateway.uploadedBytes, sha256: hash.digest('hex') }));
      return;
    }
    if (path === '/download') {
      const total = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('mb') ?? '1') * DOWNLOAD_CHUNK;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-who': name });
      void (async () => {
        let sent = 0;
        while (sent < total) {
          const chunk = patternChunk(sent, DOWNLOAD_CHUNK);
          sent += chunk.length;
          if (!res.write(chunk)) await once(res, 'drain');
          // Hold the rest back until the test saw the first megabyte through the proxy.
          if (sent === DOWNLOAD_CHUNK) await downloadGate;
        }
        res.end();
        downloadGate = new Promise<void>((resolve) => (releaseDownload = resolve));
      })();
      return;
    }
    if (path === '/slow') {
      void slowGate.then(() => {
        json(res, seen);
        slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
      });
      return;
    }
    if (path === '/hop') {
      res.setHeader('connection', 'x-upstream-hop');
      res.setHeader('x-upstream-hop', 'secret');
      res.setHeader('keep-alive', 'timeout=5');
      return json(res, seen);
    }
    if (path === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(BROWSER_PAGE);
      return;
    }
    if (path === '/status-503') {
      res.statusCode = 503;
      return json(res, seen);
    }
    json(res, seen);
  });

  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('second') ? 'second' : false),
  });
  wss.on('connection', (socket: WebSocket, req) => {
    socket.send(
      JSON.stringify({
        who: name,
        url: req.url,
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress,
        protocol: socket.protocol,
      }),
    );
    // With ws's default binaryType ('nodebuffer') a message is one Buffer.
    socket.on('message', (data, isBinary) => {
      if (isBinary) socket.send(data, { binary: true });
      else socket.send(`${name}:${(data as Buffer).toString()}`);
    });
    socket.on('close', (code) => gateway.wsCloseCodes.push(code));
  });

  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  gateway.port = (server.address() as AddressInfo).port;
  gateway.close = async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close').catch(() => {});
  };
  return gateway;
}

/** Deterministic bytes that depend on their position, so reordering or loss shows. */
export function patternChunk(offset: number, length: number): Buffer {
  const chunk = Buffer.alloc(length);
  for (let i = 0; i < length; i += 4) chunk.writeUInt32BE((offset + i) >>> 0, i);
  return chunk;
}

function json(res: import('node:http').ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(res.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Opens a WebSocket back to the host the browser used, like the Control UI does on "/". */
const BROWSER_PAGE = `<!doctype html><title>fake gateway</title><script>
window.result = new Promise((resolve, reject) => {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/');
  let hello;
  ws.onmessage = (event) => {
    if (!hello) { hello = JSON.parse(event.data); ws.send('from the browser'); return; }
    resolve({ who: hello.who, origin: hello.headers.origin, echo: event.data });
    ws.close();
  };
  ws.onerror = () => reject(new Error('websocket failed'));
});
</script>`;
