// The model meter's cost on streamed answers: time to first token and
// throughput through the meter against calling the provider directly.
import { request } from 'node:http';
import { join } from 'node:path';
import { absoluteRow, compareRow } from '../lib/report.js';
import { meterKey } from '@ocm/core';
import { REPO } from '../lib/cli-build.js';
import { startTunedNginx } from '../lib/nginx.js';
import { freePort } from '../lib/ports.js';
import { startService } from '../lib/service.js';
import { alternate, summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

/** Milliseconds to the first body byte and to the end, and bytes received. */
function stream(port: number, path: string, n: number, size: number, key?: string): Promise<{ first: number; total: number; bytes: number }> {
  const payload = JSON.stringify({ model: 'm', stream: true, messages: [], n, size });
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) } }, (res) => {
      let first = -1;
      let bytes = 0;
      res.on('data', (c: Buffer) => { if (first < 0) first = ms(); bytes += c.length; });
      res.on('end', () => resolve({ first, total: ms(), bytes }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;

export const meterBench: Bench = {
  name: 'meter',
  title: 'model meter: time to first token and streamed throughput',
  async run(ctx) {
    // Each side in its own process, as in production (the meter in the daemon, the provider elsewhere).
    const dir = ctx.scratch('meter');
    const part = join(REPO, 'bench/lib/meter-part.mjs');
    const secret = 'bench-secret';
    // The meter runs in the daemon, under the daemon's heap policy (packages/cli/src/heap-policy.ts).
    const DAEMON_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=10'];
    const [upstreamPort, meterPort] = [await freePort(), await freePort()];
    const answers = (port: number) => () => stream(port, '/ready', 0, 0).then(() => true);
    const upstream = await startService('meter bench provider', process.execPath, [part, 'provider', String(upstreamPort)], { logFile: join(dir, 'provider.log'), cwd: REPO, ready: answers(upstreamPort) });
    const meter = await startService('meter bench meter', process.execPath, [...DAEMON_HEAP_FLAGS, part, 'meter', String(meterPort), String(upstreamPort), join(dir, 'usage.db'), secret], { logFile: join(dir, 'meter.log'), cwd: REPO, ready: answers(meterPort) });
    // The smallest proxy Node allows, in its own process under the same flags: what any hop in Node costs.
    const hopPort = await freePort();
    const hop = await startService('meter bench node hop', process.execPath, [...DAEMON_HEAP_FLAGS, part, 'hop', String(hopPort), String(upstreamPort)], { logFile: join(dir, 'hop.log'), cwd: REPO, ready: answers(hopPort) });
    // The same hop without metering, as an admin would tune it: where a proxy's own cost starts.
    const nginxPort = await freePort();
    const nginx = await startTunedNginx(ctx.scratch('meter-nginx'), { port: nginxPort, upstreamPort, host: '_', stream: true });
    const key = meterKey(secret, 'alice');
    try {
      const calls = ctx.quick ? 100 : 500;
      const firsts = { direct: [] as number[], nginx: [] as number[], hop: [] as number[], meter: [] as number[] };
      const rates = { direct: [] as number[], nginx: [] as number[], hop: [] as number[], meter: [] as number[] };
      const sides = {
        direct: (n: number, size: number) => stream(upstreamPort, '/v1/chat/completions', n, size),
        nginx: (n: number, size: number) => stream(nginxPort, '/v1/chat/completions', n, size),
        hop: (n: number, size: number) => stream(hopPort, '/p/chat/completions', n, size),
        meter: (n: number, size: number) => stream(meterPort, '/p/chat/completions', n, size, key),
      };
      for (const side of Object.values(sides)) for (let i = 0; i < 20; i++) await side(20, 32);
      await alternate(ctx.reps, (['direct', 'nginx', 'hop', 'meter'] as const).map((name) => async () => {
        for (let i = 0; i < calls; i++) firsts[name].push((await sides[name](20, 32)).first);
        const big = await sides[name](ctx.quick ? 5000 : 20000, 1000);
        rates[name].push(big.bytes / 1e6 / (big.total / 1000));
      }));
      const p50 = (name: keyof typeof firsts) => percentile(firsts[name], 0.5);
      const p99 = (name: keyof typeof firsts) => percentile(firsts[name], 0.99);
      return {
        rows: [
          absoluteRow('added time to first token, p50', 'ms', summarize([p50('meter') - p50('direct')]), '< 2 ms', (m) => m < 2),
          compareRow('time to first token, p99', 'ms', summarize([p99('meter')]), 'direct', summarize([p99('direct')]), '<= 1.1x', (r) => r <= 1.1),
          compareRow('time to first token, p99, against the same hop through nginx', 'ms', summarize([p99('meter')]), 'tuned nginx, 1 worker, not metering', summarize([p99('nginx')]), 'info', undefined),
          compareRow('time to first token, p99, against the smallest Node proxy', 'ms', summarize([p99('meter')]), 'node:http in and out, keep-alive, not metering', summarize([p99('hop')]), 'info', undefined),
          absoluteRow('added time to first token, p50, nginx hop', 'ms', summarize([p50('nginx') - p50('direct')]), 'info', undefined),
          absoluteRow('added time to first token, p50, smallest Node proxy', 'ms', summarize([p50('hop') - p50('direct')]), 'info', undefined),
          compareRow('streamed throughput', 'MB/s', summarize(rates.meter), 'direct', summarize(rates.direct), 'info', undefined),
          compareRow('streamed throughput, against nginx', 'MB/s', summarize(rates.meter), 'tuned nginx', summarize(rates.nginx), 'info', undefined),
          compareRow('streamed throughput, against the smallest Node proxy', 'MB/s', summarize(rates.meter), 'node:http in and out', summarize(rates.hop), 'info', undefined),
        ],
        notes: [`${calls} sequential streamed calls of 20 chunks per side and run, then one answer of ${ctx.quick ? 5000 : 20000} 1 KB chunks; the provider stand-in, the meter and the measuring client each in its own process; the meter counts and records every call (SQLite, one transaction each); ${ctx.reps} runs per side, alternating`],
      };
    } finally {
      await nginx.stop();
      await hop.stop();
      await meter.stop();
      await upstream.stop();
    }
  },
};
