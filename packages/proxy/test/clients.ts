// Small real clients for the proxy tests: HTTP with an exact Host header,
// WebSockets, and raw sockets for requests no well-behaved client would send.
import { once } from 'node:events';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export async function httpGet(
  port: number,
  host: string,
  path = '/',
  headers: OutgoingHttpHeaders = {},
  method = 'GET',
): Promise<HttpAnswer> {
  const req = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

export async function httpJson<T = Record<string, unknown>>(
  port: number,
  host: string,
  path = '/',
  headers: OutgoingHttpHeaders = {},
): Promise<T & { status: number }> {
  const answer = await httpGet(port, host, path, headers);
  return { status: answer.status, ...(JSON.parse(answer.body) as T) };
}

export interface OpenSocket {
  ws: WebSocket;
  hello: { who: string; headers: IncomingHttpHeaders; protocol: string; remoteAddress: string; url: string };
  /** Sends text and waits for the next message. */
  echo(text: string): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function openWs(
  url: string,
  host: string,
  options: ClientOptions & { protocols?: string[]; servername?: string } = {},
): Promise<OpenSocket> {
  const { protocols, ...rest } = options;
  const ws = new WebSocket(url, protocols ?? [], { ...rest, headers: { host, ...(rest.headers ?? {}) } });
  const closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  closed.catch(() => {});
  // With ws's default binaryType ('nodebuffer') a message is one Buffer.
  const [first] = (await once(ws, 'message')) as [Buffer];
  const hello = JSON.parse(String(first)) as OpenSocket['hello'];
  return {
    ws,
    hello,
    closed,
    echo: async (text) => {
      ws.send(text);
      const [data] = (await once(ws, 'message')) as [Buffer];
      return String(data);
    },
  };
}

/** The HTTP answer to a WebSocket handshake that was refused. */
export async function wsRefusal(url: string, host: string, options: ClientOptions = {}): Promise<HttpAnswer> {
  const ws = new WebSocket(url, { ...options, headers: { host, ...(options.headers ?? {}) } });
  return new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`handshake for ${host} was accepted`));
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        ws.terminate();
      });
    });
  });
}

/** Sends bytes as they are and returns everything until the server closes (the client never half-closes). */
export async function rawExchange(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
