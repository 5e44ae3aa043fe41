// Polling and tiny HTTP helpers for tests that talk to real containers and proxies.
import http from 'node:http';
import https from 'node:https';

export interface WaitOptions {
  /** Give up after this long (default 15 000 ms). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message ("gateway healthy"). */
  what?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns a truthy value and resolves with that value.
 * Thrown errors and falsy results count as "not yet". On timeout it rejects with
 * an error naming `what`, the elapsed time and the last error or value seen.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 100, what = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const started = Date.now();
  let attempts = 0;
  let last: string = 'no attempt finished';
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value) return value;
      last = `last value: ${describe(value)}`;
    } catch (err) {
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      throw new Error(`timed out after ${elapsed} ms (${attempts} attempts) waiting for ${what}; ${last}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, timeoutMs - elapsed)));
  }
}

function describe(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}...` : s;
  } catch {
    return String(v);
  }
}

export interface HttpJsonOptions {
  method?: string;
  /** Extra request headers; `host` may be set (routing tests through a proxy). */
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  body?: unknown;
  /** Per-request timeout (default 5 000 ms). */
  timeoutMs?: number;
  /** Accept any TLS certificate (self-signed test certs). */
  insecure?: boolean;
  /** TLS server name to send (SNI), defaults to the Host header's name. */
  servername?: string;
}

export interface HttpJsonResult<T = unknown> {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Raw body text. */
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: T | undefined;
}

/**
 * One HTTP(S) request; resolves for every status (check `status` and `json`),
 * rejects on connection errors and timeouts. Uses node:http so that `Host`
 * can be set freely (fetch forbids it).
 */
export function httpJson<T = unknown>(url: string | URL, opts: HttpJsonOptions = {}): Promise<HttpJsonResult<T>> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    if (Buffer.isBuffer(opts.body)) payload = opts.body;
    else if (typeof opts.body === 'string') payload = Buffer.from(opts.body);
    else {
      payload = Buffer.from(JSON.stringify(opts.body));
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    headers['content-length'] = String(payload.length);
  }
  const isHttps = u.protocol === 'https:';
  const hostHeader = Object.entries(headers).find(([k]) => k.toLowerCase() === 'host')?.[1];
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const reqOpts: https.RequestOptions = {
      method: opts.method ?? (payload ? 'POST' : 'GET'),
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (isHttps ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      headers,
      agent: false,
    };
    if (isHttps) {
      reqOpts.rejectUnauthorized = !opts.insecure;
      const sni = opts.servername ?? hostHeader?.replace(/:\d+$/, '');
      if (sni) reqOpts.servername = sni;
    }
    const req = (isHttps ? https : http).request(reqOpts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: T | undefined;
        try {
          json = text.length ? (JSON.parse(text) as T) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${reqOpts.method} ${u.href}: no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Waits until `GET url` answers with a JSON body whose `ok` is true (GATEWAY.md: check the body). */
export function waitForHealthy(url: string, opts: WaitOptions & { headers?: Record<string, string> } = {}): Promise<HttpJsonResult<{ ok: boolean }>> {
  return waitFor(
    async () => {
      const r = await httpJson<{ ok?: unknown }>(url, { headers: opts.headers ?? {}, timeoutMs: 2_000 });
      if (r.json?.ok === true) return r as HttpJsonResult<{ ok: boolean }>;
      throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: opts.intervalMs ?? 200, what: opts.what ?? `${url} to report ok:true` },
  );
}
