// One HTTP/1.1 request written byte for byte on a fresh socket, so tests can
// send what node:http refuses to build (odd Host headers, duplicates,
// absolute-form targets). Always settles: a status, or how it failed.
import net from 'node:net';

export interface RawAnswer { status: number; body: string; error?: string; ms: number }

export function rawRequest(port: number, head: string, timeoutMs = 5_000): Promise<RawAnswer> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: m === null ? 0 : Number(m[1]), body: split === -1 ? '' : text.slice(split + 4), ms: Date.now() - t0, ...(m === null ? { error: error ?? 'no status line' } : {}) });
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(Buffer.from(head, 'utf8')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e) => finish(e.message));
  });
}
