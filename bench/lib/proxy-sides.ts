// The sides the proxy benches compare, all routing the fleet's target user:
// ocm's proxy, nginx on ocm's rendered confs (workers auto and 1), nginx on a
// hand-tuned conf (1 worker) and the gateway's own port. Measured in turns,
// and written into the results with the nginx configs they read.
import { basename } from 'node:path';
import { TARGET, type Ctx, type OcmProxy } from './context.js';
import { nginxConfigFiles } from './nginx.js';
import { compareRow, type Row } from './report.js';
import { alternate, summarize, type Summary } from './stats.js';

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

export const summaryOf = <T>(results: Map<string, T[]>, pick: (t: T) => number) => (s: Side): Summary => summarize((results.get(s.name) as T[]).map(pick));

/** What the ocm side is, and the nginx configs of the rendered (1 worker) and tuned sides, for the results. */
export async function sideNotes(ctx: Ctx, sides: ProxySides): Promise<string[]> {
  // nginx's main file and the confs of the user under load.
  const configs = (dir: string) => Object.entries(nginxConfigFiles(dir))
    .filter(([path]) => ['nginx.conf', 'ocm.conf', `${TARGET.name}.conf`, 'tuned.conf'].includes(basename(path)))
    .map(([path, text]) => `--- ${path}\n${text}`).join('\n');
  const { ocm } = sides;
  return [
    `${sides.renderedOne.name} reads (and ${ctx.fleetSize - 1} more users' confs of the same form):\n${configs((await ctx.nginx('1')).dir)}`,
    `${sides.tuned.name} reads:\n${configs((await ctx.tunedNginx()).dir)}`,
    `the ocm side is ${ocm.kind}${ocm.kind === 'ocm daemon' ? '' : ' (createEmbeddedProxy with a StaticRouteTable of every user, in its own process: `ocm daemon` was not available)'}; ${ctx.fleetSize} users routed, all gateways running`,
  ];
}
