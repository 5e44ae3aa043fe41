// A WebSocket client through a proxy on 127.0.0.1 that names the user's host
// in the Host header, as a browser on <name>.localhost would.
import WebSocket from 'ws';

export interface EchoSocket {
  ws: WebSocket;
  /** Sends text and resolves with the next message. */
  echo(text: string, timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export function openSocket(port: number, host: string, headers: Record<string, string> = {}): Promise<EchoSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host, ...headers }, handshakeTimeout: 5000 });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve({
        ws,
        closed,
        close: () => ws.close(1000),
        echo: (text, timeoutMs = 5000) =>
          new Promise<string>((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no echo of ${JSON.stringify(text)} within ${timeoutMs} ms`)), timeoutMs);
            // With ws's default binaryType ('nodebuffer') a message is one Buffer.
            ws.once('message', (data) => {
              clearTimeout(timer);
              res((data as Buffer).toString());
            });
            ws.send(text);
          }),
      });
    });
  });
}
