// Small HTTP responses through ocm's proxy, nginx on the rendered config, nginx
// on a hand-tuned config, and straight to the gateway's port: wrk with 64
// connections, alternating sides.
import { TARGET } from '../lib/context.js';
import { measureSides, proxySides, sideNotes, summaryOf, type Side } from '../lib/proxy-sides.js';
import { compareRow } from '../lib/report.js';
import { wrk, type WrkResult } from '../lib/wrk.js';
import type { Bench } from './types.js';

export const proxyBench: Bench = {
  name: 'proxy',
  title: 'proxy throughput, small responses, 64 connections',
  async run(ctx) {
    const sides = await proxySides(ctx);
    const { ocm, renderedAuto, renderedOne, tuned, direct } = sides;
    const seconds = ctx.quick ? 3 : 10;
    const host = `${TARGET.name}.localhost`;
    const load = (s: Side, d = seconds) =>
      wrk({ port: s.port, host, path: '/healthz', seconds: d, connections: 64, threads: 2 }).catch((err: Error) => {
        throw new Error(`${s.name}: ${err.message}`);
      });
    ctx.log('  warm-up: 2 s of load on each side');
    const results = await measureSides(ctx, sides.all, (s) => load(s, 2), (s) => load(s));
    const rps = summaryOf(results, (r: WrkResult) => r.rps);
    const p99 = summaryOf(results, (r: WrkResult) => r.p99Ms);
    const rows = [
      compareRow('req/s, GET /healthz', 'req/s', rps(ocm), renderedAuto.name, rps(renderedAuto), '>= 0.6', (r) => r >= 0.6),
      compareRow('p99 latency', 'ms', p99(ocm), renderedAuto.name, p99(renderedAuto), '<= 2.0', (r) => r <= 2),
      ...[renderedOne, direct].flatMap((o) => [
        compareRow('req/s, GET /healthz', 'req/s', rps(ocm), o.name, rps(o), 'info', undefined),
        compareRow('p99 latency', 'ms', p99(ocm), o.name, p99(o), 'info', undefined),
      ]),
      // ocm's rendered conf against the best an admin would write by hand: same nginx, same worker count.
      compareRow(`req/s, GET /healthz, ${renderedOne.name}`, 'req/s', rps(renderedOne), tuned.name, rps(tuned), '>= 0.95', (r) => r >= 0.95),
      compareRow(`p99 latency, ${renderedOne.name}`, 'ms', p99(renderedOne), tuned.name, p99(tuned), '<= 1.05', (r) => r <= 1.05),
      compareRow('req/s, GET /healthz', 'req/s', rps(ocm), tuned.name, rps(tuned), '>= 0.8', (r) => r >= 0.8),
      compareRow('p99 latency', 'ms', p99(ocm), tuned.name, p99(tuned), '<= 1.5', (r) => r <= 1.5),
    ];
    return {
      rows,
      notes: [
        `wrk -t2 -c64 -d${seconds}s --latency -H 'Host: ${host}' http://127.0.0.1:PORT/healthz, ${ctx.reps} runs per side after a 2 s warm-up, sides alternating; nginx with access_log off, worker_connections 1024`,
        `socket errors + non-2xx answers: ${sides.all.map((s) => `${s.name} ${(results.get(s.name) as WrkResult[]).reduce((n, r) => n + r.errors + r.non2xx, 0)}`).join(', ')}`,
        ...(await sideNotes(ctx, sides)),
      ],
    };
  },
};
