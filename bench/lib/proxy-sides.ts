// The sides the proxy benches compare, all routing the fleet's target user:
// ocm's proxy, nginx on ocm's rendered confs (workers auto and 1), nginx on a
// hand-tuned conf (1 worker) and the gateway's own port. Measured in turns,
// and written into the results with the nginx configs they read.
import { basename } from 'node:path';
import { TARGET, type Ctx, type OcmProxy } from './context.js';
import { nginxConfigFiles } from './nginx.js';
import { compareRow, type Row } from './report.js';
import { alternate, summarize, type Summary } from './stats.js';
import { wrk, type WrkOptions, type WrkResult } from './wrk.js';

export interface Side { name: string; port: number }

export interface ProxySides {
  ocm: Side & { kind: OcmProxy['kind']; pid: number };
  renderedAuto: Side;
  renderedOne: Side;
  tuned: Side;
  direct: Side;
  /** All of them, in the order they take turns. */
  all: Side[];
}

export async function proxySides(ctx: Ctx): Promise<ProxySides> {
  const f = await ctx.running();
  const proxy = await ctx.ocmProxy();
  const ocm = { name: proxy.kind, kind: proxy.kind, pid: proxy.pid, port: proxy.port };
  const renderedAuto = { name: 'nginx (rendered conf, worker_processes auto = 2)', port: (await ctx.nginx('auto')).port };
  const renderedOne = { name: 'nginx (rendered conf, 1 worker)', port: (await ctx.nginx('1')).port };
  const direct = { name: 'direct to the gateway port', port: f.ports.get(TARGET.name) as number };
  const tuned = { name: 'nginx (tuned conf: upstream keepalive 64, 1 worker)', port: (await ctx.tunedNginx()).port };
  return { ocm, renderedAuto, renderedOne, tuned, direct, all: [ocm, renderedAuto, renderedOne, direct, tuned] };
}

/**
 * `warmUp` once on every side, then `measure` ctx.reps times on every side,
 * the order reversed every other round; the measurements by side name.
 */
export async function measureSides<T>(ctx: Ctx, sides: readonly Side[], warmUp: (s: Side) => Promise<unknown>, measure: (s: Side) => Promise<T>): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(sides.map((s) => [s.name, []]));
  for (const s of sides) await warmUp(s);
  await alternate(ctx.reps, sides.map((s) => async () => {
    (results.get(s.name) as T[]).push(await measure(s));
  }));
  return results;
}

/**
 * Rows for a higher-is-better figure: ocm against the tuned nginx (the
 * target), the rendered conf against the tuned one on the same nginx and
 * worker count (what ocm's nginx output costs), and ocm against the rest.
 */
export function throughputRows(what: string, unit: string, sides: ProxySides, of: (s: Side) => Summary, ocmMin: number): Row[] {
  const { ocm, renderedAuto, renderedOne, tuned, direct } = sides;
  return [
    compareRow(what, unit, of(ocm), tuned.name, of(tuned), `>= ${ocmMin}`, (r) => r >= ocmMin),
    compareRow(`${what}, ${renderedOne.name}`, unit, of(renderedOne), tuned.name, of(tuned), '>= 0.95', (r) => r >= 0.95),
    ...[renderedAuto, renderedOne, direct].map((o) => compareRow(what, unit, of(ocm), o.name, of(o), 'info', undefined)),
  ];
}

/** Load for a side: wrk GET /healthz of the target user, 64 connections, `seconds` unless told. */
export function healthzLoad(seconds: number, extra: Pick<WrkOptions, 'tls' | 'headers'> = {}): (s: Side, d?: number) => Promise<WrkResult> {
  const host = `${TARGET.name}.localhost`;
  return (s, d = seconds) =>
    wrk({ port: s.port, host, path: '/healthz', seconds: d, connections: 64, threads: 2, ...extra }).catch((err: Error) => {
      throw new Error(`${s.name}: ${err.message}`);
    });
}

/**
 * The rows against the best an admin would write by hand: the rendered conf
 * against the tuned one (same nginx, same worker count), then ocm against it.
 */
export function againstTunedRows(results: Map<string, WrkResult[]>, ocm: Side, rendered: Side, tuned: Side): Row[] {
  const rps = summaryOf(results, (r) => r.rps);
  const p99 = summaryOf(results, (r) => r.p99Ms);
  return [
    compareRow(`req/s, GET /healthz, ${rendered.name}`, 'req/s', rps(rendered), tuned.name, rps(tuned), '>= 0.95', (r) => r >= 0.95),
    compareRow(`p99 latency, ${rendered.name}`, 'ms', p99(rendered), tuned.name, p99(tuned), '<= 1.05', (r) => r <= 1.05),
    compareRow('req/s, GET /healthz', 'req/s', rps(ocm), tuned.name, rps(tuned), '>= 0.8', (r) => r >= 0.8),
    compareRow('p99 latency', 'ms', p99(ocm), tuned.name, p99(tuned), '<= 1.5', (r) => r <= 1.5),
  ];
}

/** The socket errors and non-2xx answers wrk saw, by side. */
export const wrkErrorsNote = (sides: readonly Side[], results: Map<string, WrkResult[]>): string =>
  `socket errors + non-2xx answers: ${sides.map((s) => `${s.name} ${(results.get(s.name) as WrkResult[]).reduce((n, r) => n + r.errors + r.non2xx, 0)}`).join(', ')}`;

export const summaryOf = <T>(results: Map<string, T[]>, pick: (t: T) => number) => (s: Side): Summary => summarize((results.get(s.name) as T[]).map(pick));

/** nginx's main file and the confs of the user under load, of an nginx started in `dir`. */
export const nginxConfigs = (dir: string): string => Object.entries(nginxConfigFiles(dir))
  .filter(([path]) => ['nginx.conf', 'ocm.conf', `${TARGET.name}.conf`, 'tuned.conf'].includes(basename(path)))
  .map(([path, text]) => `--- ${path}\n${text}`).join('\n');

/** What the ocm side is, for the results. */
export const ocmSideNote = (ctx: Ctx, ocm: ProxySides['ocm']): string =>
  `the ocm side is ${ocm.kind}${ocm.kind === 'ocm daemon' ? '' : ' (createEmbeddedProxy with a StaticRouteTable of every user, in its own process: `ocm daemon` was not available)'}; ${ctx.fleetSize} users routed, all gateways running`;

/** What the ocm side is, and the nginx configs of the rendered (1 worker) and tuned sides, for the results. */
export async function sideNotes(ctx: Ctx, sides: ProxySides): Promise<string[]> {
  return [
    `${sides.renderedOne.name} reads (and ${ctx.fleetSize - 1} more users' confs of the same form):\n${nginxConfigs((await ctx.nginx('1')).dir)}`,
    `${sides.tuned.name} reads:\n${nginxConfigs((await ctx.tunedNginx()).dir)}`,
    ocmSideNote(ctx, sides.ocm),
  ];
}
