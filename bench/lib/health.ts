// The by-hand side's health wait: what a careful script around docker-compose
// does, GET /healthz until the JSON says ok, every 100 ms.
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export const POLL_MS = 100;

export function healthy(port: number, host = '127.0.0.1', hostHeader?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host, port, path: '/healthz', agent: false, headers: hostHeader ? { host: hostHeader } : {} }, (res) => {
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
    });
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

/** Through a proxy: wait until <host> answers healthy on 127.0.0.1:<port>. */
export async function waitRoute(port: number, hostHeader: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(port, '127.0.0.1', hostHeader))) {
    if (Date.now() > deadline) throw new Error(`${hostHeader} is not healthy through 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}
