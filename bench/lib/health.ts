// The by-hand side's health wait: what a careful script around docker-compose
// does, GET /healthz until the JSON says ok, every 100 ms.
import { get, type IncomingMessage } from 'node:http';
import { get as getTls } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export const POLL_MS = 100;

/** `tls`: over HTTPS, any certificate taken (the bench's own are self-signed). */
export function healthy(port: number, host = '127.0.0.1', hostHeader?: string, tls = false): Promise<boolean> {
  return new Promise((resolve) => {
    const options = { host, port, path: '/healthz', agent: false, headers: hostHeader ? { host: hostHeader } : {} };
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { ok?: unknown }).ok === true);
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    };
    const req = tls ? getTls({ ...options, rejectUnauthorized: false, ...(hostHeader ? { servername: hostHeader } : {}) }, onResponse) : get(options, onResponse);
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Resolves once every port answered healthy (each stops being polled once it has). */
export async function waitAllHealthy(ports: readonly number[], timeoutMs: number, intervalMs = POLL_MS): Promise<void> {
  const pending = new Set(ports);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    const results = await Promise.all([...pending].map(async (p) => [p, await healthy(p)] as const));
    for (const [p, ok] of results) if (ok) pending.delete(p);
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`not healthy after ${timeoutMs} ms: ports ${[...pending].join(', ')}`);
    await sleep(intervalMs);
  }
}

/** Through a proxy: wait until <host> answers healthy on 127.0.0.1:<port> (over HTTPS with `tls`). */
export async function waitRoute(port: number, hostHeader: string, timeoutMs: number, tls = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(port, '127.0.0.1', hostHeader, tls))) {
    if (Date.now() > deadline) throw new Error(`${hostHeader} is not healthy through 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}
