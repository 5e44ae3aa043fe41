// The gateway's UI answers 200 to any path, so "healthy" means /healthz
// returned JSON with ok === true, nothing less.
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

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

/**
 * The client address a browser check claims: a client on another machine
 * (TEST-NET-1), which is what ocm's proxies forward for a phone or a laptop,
 * and for a browser on this host its non-loopback address (see GATEWAY.md).
 */
export const BROWSER_CLIENT = '192.0.2.10';

/** Pure: judge the answer to a browser's first request (GET / for HTML). */
export function judgeUi(status: number, contentType: string, body: string): ProbeResult {
  if (status === 200 && /text\/html/i.test(contentType)) return { ok: true, detail: 'served' };
  let type: string | undefined;
  try {
    const json = JSON.parse(body) as { error?: unknown } | null;
    const error = json?.error;
    type = typeof error === 'string' ? error : typeof (error as { type?: unknown } | undefined)?.type === 'string' ? (error as { type: string }).type : undefined;
  } catch {
    type = undefined;
  }
  return { ok: false, detail: `HTTP ${status}${type === undefined ? '' : ` ${type}`}` };
}

export interface UiProbeTarget { hostPort: number; host: string; proto: 'http' | 'https' }

export type UiProbe = (target: UiProbeTarget) => Promise<ProbeResult>;

/**
 * What a browser gets, asked the way ocm's proxies forward it: GET / for
 * HTML with the user's Host and X-Forwarded-For/-Proto. The real gateway
 * answers /healthz whatever its proxy settings are, and refuses this request
 * (403 proxy_attribution_required) when it no longer trusts the proxy.
 */
export function httpUiProbe(timeoutMs = 2000): UiProbe {
  return ({ hostPort, host, proto }) => {
    const headers = { host, accept: 'text/html', 'x-forwarded-for': BROWSER_CLIENT, 'x-forwarded-proto': proto };
    return fetchUi((callback) => get({ host: '127.0.0.1', port: hostPort, path: '/', headers, agent: false }, callback), timeoutMs);
  };
}

/** Where browsers reach the users: ocm's proxy (the daemon's, or nginx), as the manifest configures it. */
export interface ProxyTarget { address: string; port: number; tls: boolean }

export type ProxyUiProbe = (target: ProxyTarget, host: string) => Promise<ProbeResult & { unreachable?: boolean }>;

/**
 * What a browser gets from the proxy: GET / for HTML with the user's Host,
 * and SNI over TLS (the certificate is not judged here). unreachable: the
 * proxy itself did not answer (not running, or not listening there).
 */
export function httpProxyUiProbe(timeoutMs = 2000): ProxyUiProbe {
  return async (target, host) => {
    const headers = { host, accept: 'text/html' };
    const options = { host: target.address, port: target.port, path: '/', headers, agent: false as const };
    const result = await fetchUi((callback) => (target.tls ? httpsGet({ ...options, servername: host, rejectUnauthorized: false }, callback) : get(options, callback)), timeoutMs);
    return /^(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|EADDRNOTAVAIL|ECONNRESET)$/.test(result.detail) ? { ...result, unreachable: true } : result;
  };
}

function fetchUi(open: (callback: (response: IncomingMessage) => void) => ClientRequest, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const request = open((response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        // The verdict needs the head of the body only: the UI shell, or a JSON error.
        if (size < 65_536) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => resolve(judgeUi(response.statusCode ?? 0, String(response.headers['content-type'] ?? ''), Buffer.concat(chunks).toString('utf8'))));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: error.code ?? error.message }));
    });
    request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: error.code ?? error.message }));
  });
}

/** Pure: a UI answer that means "up but refusing browsers" (an HTTP refusal), not a gateway still starting. */
export const refusesBrowsers = (ui: ProbeResult): boolean => !ui.ok && /^HTTP 4\d\d/.test(ui.detail);
