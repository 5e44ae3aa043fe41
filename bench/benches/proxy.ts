// Small HTTP responses through ocm's proxy, nginx on the rendered config, nginx
// on a hand-tuned config, and straight to the gateway's port: wrk with 64
// connections, alternating sides.
import { basename } from 'node:path';
import type { Ctx } from '../lib/context.js';
import { TARGET } from '../lib/context.js';
import { nginxConfigFiles, startTunedNginx } from '../lib/nginx.js';
import { freePort } from '../lib/ports.js';
import { compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import { wrk, type WrkResult } from '../lib/wrk.js';
import type { Bench } from './types.js';

export interface Side { name: string; port: number }

export async function proxySides(ctx: Ctx): Promise<{ ocm: Side & { kind: string }; others: Side[] }> {
  const f = await ctx.running();
  const proxy = await ctx.ocmProxy();
  const auto = await ctx.nginx('auto');
  const one = await ctx.nginx('1');
  return {
    ocm: { name: proxy.kind, kind: proxy.kind, port: proxy.port },
    others: [
      { name: 'nginx (rendered conf, worker_processes auto = 2)', port: auto.port },
      { name: 'nginx (rendered conf, 1 worker)', port: one.port },
      { name: 'direct to the gateway port', port: f.ports.get(TARGET.name) as number },
    ],
  };
}

export const proxyBench: Bench = {
  name: 'proxy',
  title: 'proxy throughput, small responses, 64 connections',
  async run(ctx) {
    const { ocm, others } = await proxySides(ctx);
    const f = await ctx.running();
    const tunedDir = ctx.scratch('nginx-tuned');
    const tunedNginx = await startTunedNginx(tunedDir, { port: await freePort(), upstreamPort: f.ports.get(TARGET.name) as number, host: `${TARGET.name}.localhost` });
    const tuned: Side = { name: 'nginx (tuned conf: upstream keepalive 64, 1 worker)', port: tunedNginx.port };
    const renderedOne = others[1] as Side;
    const seconds = ctx.quick ? 3 : 10;
    const host = `${TARGET.name}.localhost`;
    const load = (port: number, s = seconds) =>
      wrk({ port, host, path: '/healthz', seconds: s, connections: 64, threads: 2 }).catch((err: Error) => {
        throw new Error(`${sides.find((x) => x.port === port)?.name ?? port}: ${err.message}`);
      });
    const sides = [ocm, ...others, tuned];
    const results = new Map<string, WrkResult[]>(sides.map((s) => [s.name, []]));
    ctx.log('  warm-up: 2 s of load on each side');
    for (const s of sides) await load(s.port, 2);
    try {
      await alternate(ctx.reps, sides.map((s) => async () => {
        (results.get(s.name) as WrkResult[]).push(await load(s.port));
      }));
    } finally {
      await tunedNginx.stop();
    }
    const rps = (name: string) => summarize((results.get(name) as WrkResult[]).map((r) => r.rps));
    const p99 = (name: string) => summarize((results.get(name) as WrkResult[]).map((r) => r.p99Ms));
    const [nginxAuto] = others;
    const rows = [
      compareRow('req/s, GET /healthz', 'req/s', rps(ocm.name), (nginxAuto as Side).name, rps((nginxAuto as Side).name), '>= 0.6', (r) => r >= 0.6),
      compareRow('p99 latency', 'ms', p99(ocm.name), (nginxAuto as Side).name, p99((nginxAuto as Side).name), '<= 2.0', (r) => r <= 2),
      ...others.slice(1).flatMap((o) => [
        compareRow('req/s, GET /healthz', 'req/s', rps(ocm.name), o.name, rps(o.name), 'info', undefined),
        compareRow('p99 latency', 'ms', p99(ocm.name), o.name, p99(o.name), 'info', undefined),
      ]),
      // ocm's rendered conf against the best an admin would write by hand: same nginx, same worker count.
      compareRow(`req/s, GET /healthz, ${renderedOne.name}`, 'req/s', rps(renderedOne.name), tuned.name, rps(tuned.name), '>= 0.95', (r) => r >= 0.95),
      compareRow(`p99 latency, ${renderedOne.name}`, 'ms', p99(renderedOne.name), tuned.name, p99(tuned.name), '<= 1.05', (r) => r <= 1.05),
      compareRow('req/s, GET /healthz', 'req/s', rps(ocm.name), tuned.name, rps(tuned.name), '>= 0.8', (r) => r >= 0.8),
      compareRow('p99 latency', 'ms', p99(ocm.name), tuned.name, p99(tuned.name), '<= 1.5', (r) => r <= 1.5),
    ];
    // The configs compared, in the results: nginx's main file and the confs of the user under load.
    const configs = (dir: string) => Object.entries(nginxConfigFiles(dir))
      .filter(([path]) => ['nginx.conf', 'ocm.conf', `${TARGET.name}.conf`, 'tuned.conf'].includes(basename(path)))
      .map(([path, text]) => `--- ${path}\n${text}`).join('\n');
    return {
      rows,
      notes: [
        `wrk -t2 -c64 -d${seconds}s --latency -H 'Host: ${host}' http://127.0.0.1:PORT/healthz, ${ctx.reps} runs per side after a 2 s warm-up, sides alternating; nginx with access_log off, worker_connections 1024`,
        `socket errors + non-2xx answers: ${sides.map((s) => `${s.name} ${(results.get(s.name) as WrkResult[]).reduce((n, r) => n + r.errors + r.non2xx, 0)}`).join(', ')}`,
        `${renderedOne.name} reads (and ${ctx.fleetSize - 1} more users' confs of the same form):\n${configs(ctx.scratch('nginx-1'))}`,
        `${tuned.name} reads:\n${configs(tunedDir)}`,
        `the ocm side is ${ocm.kind}${ocm.kind === 'ocm daemon' ? '' : ' (createEmbeddedProxy with a StaticRouteTable of every user, in its own process: `ocm daemon` was not available)'}; ${ctx.fleetSize} users routed, all gateways running`,
      ],
    };
  },
};
