// Small HTTP responses through ocm's proxy, nginx on the rendered config, nginx
// on a hand-tuned config, and straight to the gateway's port: wrk with 64
// connections, alternating sides.
import { TARGET } from '../lib/context.js';
import { againstTunedRows, healthzLoad, measureSides, proxySides, sideNotes, summaryOf, wrkErrorsNote } from '../lib/proxy-sides.js';
import { compareRow } from '../lib/report.js';
import type { WrkResult } from '../lib/wrk.js';
import type { Bench } from './types.js';

export const proxyBench: Bench = {
  name: 'proxy',
  title: 'proxy throughput, small responses, 64 connections',
  async run(ctx) {
    const sides = await proxySides(ctx);
    const { ocm, renderedAuto, renderedOne, tuned, direct } = sides;
    const seconds = ctx.quick ? 3 : 10;
    const host = `${TARGET.name}.localhost`;
    const load = healthzLoad(seconds);
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
      ...againstTunedRows(results, ocm, renderedOne, tuned),
    ];
    return {
      rows,
      notes: [
        `wrk -t2 -c64 -d${seconds}s --latency -H 'Host: ${host}' http://127.0.0.1:PORT/healthz, ${ctx.reps} runs per side after a 2 s warm-up, sides alternating; nginx with access_log off, worker_connections 1024`,
        wrkErrorsNote(sides.all, results),
        ...(await sideNotes(ctx, sides)),
      ],
    };
  },
};
