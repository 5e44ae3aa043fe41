// `ocm status`: per user what Docker and the gateway itself say right now.
import { OcmError, containerName, effectiveLimits, parseSize, userEgress, type EgressMode, type Manifest } from '@ocm/core';
import { mapLimit, type ContainerReader, type EngineHost } from '@ocm/engine';
import type { OpsContext } from './context.js';
import { defaultProbes, probeUsable } from './usable.js';

export interface UserStatus {
  name: string;
  enabled: boolean;
  /** Docker state, or "missing" when there is no container. */
  state: string;
  /**
   * healthy: /healthz answered ok and a browser's first request is served;
   * refusing: /healthz answers but browsers are refused (see healthDetail);
   * unhealthy: /healthz did not answer ok; "-" when not running.
   */
  health: 'healthy' | 'refusing' | 'unhealthy' | 'starting' | '-';
  /** In words: what the probes got. */
  healthDetail?: string;
  startedAt?: string;
  uptimeSeconds?: number;
  restarts: number;
  cpuPercent?: number;
  cpuLimit: number;
  memoryBytes?: number;
  memoryLimitBytes: number;
  pids?: number;
  pidsLimit: number;
  port: number;
  image: string;
  oomKilled?: boolean;
  /** On a swarm: the node her task runs on (or, with none, the one she is pinned to). */
  node?: string;
  /** The network policy this user's gateway is under, and its openings (shared ones first). */
  egress: { policy: EgressMode; allow: string[] };
}

const probes = defaultProbes(1500);

export async function userStatus(engine: ContainerReader, manifest: Manifest, name: string, now: Date = new Date()): Promise<UserStatus> {
  const user = manifest.users.find((u) => u.name === name);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`);
  const limits = effectiveLimits(manifest, user);
  const egress = userEgress(manifest, name);
  const base: UserStatus = {
    egress: { policy: egress.mode, allow: egress.allow },
    name, enabled: user.enabled, state: 'missing', health: '-', restarts: 0,
    cpuLimit: limits.cpus, memoryLimitBytes: parseSize(limits.memory), pidsLimit: limits.pids,
    port: user.port, image: user.image ?? manifest.settings.image,
    ...(user.node === undefined ? {} : { node: user.node }),
  };
  const info = await engine.find(containerName(manifest, name));
  if (info === undefined) return base;
  const status: UserStatus = { ...base, state: info.state, restarts: info.restartCount, image: info.image, oomKilled: info.oomKilled, ...(info.node === undefined ? {} : { node: info.node }) };
  if (info.state !== 'running') return status;
  const started = new Date(info.startedAt);
  status.startedAt = started.toISOString();
  status.uptimeSeconds = Math.max(0, Math.round((now.getTime() - started.getTime()) / 1000));
  const [usable, stats] = await Promise.all([probeUsable(manifest, name, user.port, probes), engine.stats(containerName(manifest, name)).catch(() => undefined)]);
  status.health = usable.health === 'unhealthy' && info.health === 'starting' ? 'starting' : usable.health;
  status.healthDetail = usable.detail;
  if (stats !== undefined) {
    status.cpuPercent = Math.round(stats.cpuPercent * 10) / 10;
    status.memoryBytes = stats.memoryBytes;
    status.pids = stats.pids;
  }
  return status;
}

export async function statusAll(ctx: OpsContext & { engine: EngineHost & ContainerReader }, names: readonly string[] = []): Promise<UserStatus[]> {
  await ctx.engine.ping();
  const { manifest } = await ctx.root.load();
  const wanted = names.length === 0 ? manifest.users.map((u) => u.name) : [...names];
  return mapLimit(wanted, 8, (name) => userStatus(ctx.engine, manifest, name));
}
