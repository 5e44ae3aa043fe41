// HTTP load with wrk (bounded by -d), parsed into req/s and latency percentiles.
import { run } from './proc.js';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1000;
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': return n * 60_000;
    default: throw new Error(`unknown wrk latency unit ${unit}`);
  }
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const requests = /(\d+) requests in/.exec(out);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`cannot parse wrk output:\n${out}`);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p50Ms: toMs(p50[1] as string, p50[2] as string),
    p99Ms: toMs(p99[1] as string, p99[2] as string),
    requests: Number(requests[1]),
    errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

export interface WrkOptions {
  port: number;
  host: string;
  path: string;
  seconds: number;
  connections: number;
  threads: number;
  /** Over HTTPS (wrk takes any certificate). */
  tls?: boolean;
  /** More request headers, e.g. 'Connection: close' for a new connection per request. */
  headers?: readonly string[];
}

export async function wrk(o: WrkOptions): Promise<WrkResult> {
  // --timeout 10s: on a busy 2-core machine a slow answer is a data point, not a socket error.
  const out = await run('wrk', [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '--latency', '-H', `Host: ${o.host}`, ...(o.headers ?? []).flatMap((h) => ['-H', h]), `${o.tls === true ? 'https' : 'http'}://127.0.0.1:${o.port}${o.path}`], {
    timeoutMs: (o.seconds + 30) * 1000,
  });
  const result = parseWrk(out.stdout);
  if (result.errors + result.non2xx > result.requests * 0.01) {
    throw new Error(`wrk against :${o.port} saw ${result.errors} socket errors and ${result.non2xx} non-2xx answers of ${result.requests}:\n${out.stdout}`);
  }
  return result;
}
