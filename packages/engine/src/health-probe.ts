// The gateway's UI answers 200 to any path, so "healthy" means /healthz
// returned JSON with ok === true, nothing less.
import { get } from 'node:http';

export interface ProbeResult {
  ok: boolean;
  /** Why not, for progress lines and the final error. */
  detail: string;
}

export type HealthProbe = (hostPort: number) => Promise<ProbeResult>;

/** Pure: judge a /healthz answer. */
export function judgeHealthz(status: number, body: string): ProbeResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, detail: `HTTP ${status} with a non-JSON body` };
  }
  if ((json as { ok?: unknown } | null)?.ok === true) return { ok: true, detail: `HTTP ${status} ok` };
  return { ok: false, detail: `HTTP ${status} without "ok": true` };
}

/** GET http://127.0.0.1:<port>/healthz with a short timeout (node:http: fetch can stall on a proxy that resets). */
export function httpHealthProbe(timeoutMs = 2000): HealthProbe {
  return (hostPort) =>
    new Promise((resolve) => {
      const request = get({ host: '127.0.0.1', port: hostPort, path: '/healthz', agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(judgeHealthz(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
        response.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: error.code ?? error.message }));
      });
      request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: error.code ?? error.message }));
    });
}
