// Small measuring tools for the reliability suites: latency samples and their
// percentiles, one bounded HTTP probe, and `docker exec ... node -e` inside a
// gateway container (the image has node but no shell tools).
import { execFile } from 'node:child_process';
import http from 'node:http';

export interface Sample { ms: number; ok: boolean; error?: string }

export interface Summary { n: number; failed: number; p50: number; p99: number; max: number }

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export function summarize(samples: readonly Sample[]): Summary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return { n: samples.length, failed: samples.filter((s) => !s.ok).length, p50: round(percentile(ms, 0.5)), p99: round(percentile(ms, 0.99)), max: round(ms.at(-1) ?? Number.NaN) };
}

/** One GET on a fresh connection; ok only for 200 with a JSON body whose `ok` is true. */
export function probeHealth(port: number, timeoutMs = 2_000, path = '/healthz'): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', (err) => resolve({ ms: elapsed(), ok: false, error: err.message }));
      res.on('end', () => {
        let ok = false;
        try {
          ok = res.statusCode === 200 && (JSON.parse(body) as { ok?: unknown }).ok === true;
        } catch { /* not JSON */ }
        resolve({ ms: elapsed(), ok, ...(ok ? {} : { error: `HTTP ${res.statusCode ?? 0}` }) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ms: elapsed(), ok: false, error: err.message }));
  });
}

export interface ExecOut { code: number; stdout: string; stderr: string }

/** `docker exec <container> node -e <script> [args...]`, bounded in time. */
export function execNode(container: string, script: string, args: string[] = [], timeoutMs = 30_000): Promise<ExecOut> {
  return new Promise((resolve) => {
    execFile('docker', ['exec', container, 'node', '-e', script, ...args], { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a program and resolves with its exit code and output (never rejects). */
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<ExecOut> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
      resolve({ code, stdout, stderr: stderr || (error?.message ?? '') });
    });
  });
}

/** TCP connect attempts made from inside a container: 'open', an errno code, or 'timeout'. */
export const CONNECT_SCRIPT = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  const timer = setTimeout(() => { s.destroy(); resolve([host, port, 'timeout']); }, 1500);
  s.on('connect', () => { clearTimeout(timer); s.destroy(); resolve([host, port, 'open']); });
  s.on('error', (e) => { clearTimeout(timer); resolve([host, port, e.code || e.message]); });
}))).then((r) => process.stdout.write(JSON.stringify(r)));
`;

export async function connectFrom(container: string, targets: Array<[string, number]>): Promise<Array<[string, number, string]>> {
  const r = await execNode(container, CONNECT_SCRIPT, [JSON.stringify(targets)]);
  if (r.code !== 0) throw new Error(`probe in ${container} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<[string, number, string]>;
}

/** Listening TCP sockets as [address, port] from `ss -ltnH`. */
export async function listeningSockets(): Promise<Array<{ address: string; port: number }>> {
  const r = await run('ss', ['-ltnH']);
  if (r.code !== 0) throw new Error(`ss failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const local = line.trim().split(/\s+/)[3] ?? '';
    const i = local.lastIndexOf(':');
    return { address: local.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(local.slice(i + 1)) };
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
