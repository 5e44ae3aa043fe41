// What GET /api/status and the status page show: ops' status of every
// gateway, plus what only the daemon knows (route state, open WebSockets)
// and each user's last backup with its age.
import type { Manifest } from '@ocm/core';
import type { HostStatus } from '@ocm/acme';
import { lastBackupResult, listUsers, statusAll, type RuntimeContext, type UserStatus } from '@ocm/ops';
import type { UsageStore } from '@ocm/meter';
import { modelSpend, type ModelSpend } from './model-spend.js';

export interface LastBackup {
  ok: boolean;
  time: string;
  ageSeconds: number;
  archive?: string;
  bytes?: number;
  error?: { code: string; message: string };
}

export interface UserReport extends UserStatus {
  url: string;
  /** Embedded proxy only: whether the proxy forwards to this gateway right now. */
  route?: 'up' | 'down';
  webSockets?: number;
  lastBackup?: LastBackup;
  /** Model spend against the user's budget, while the model meter runs. */
  models?: ModelSpend;
}

export interface StatusReport {
  time: string;
  domain: string;
  proxy: { mode: 'embedded' | 'nginx'; listen: string };
  backups: { schedule: string; timezone: string; running: boolean };
  users: UserReport[];
  tls?: HostStatus[];
}

export interface StatusSources {
  ctx: RuntimeContext;
  now: () => number;
  routes?: () => ReadonlyMap<string, 'up' | 'down'>;
  webSockets?: () => ReadonlyMap<string, number>;
  backupRunning?: () => boolean;
  usage?: () => UsageStore | undefined;
  /** ACME: each user host's certificate and last error. */
  tls?: () => HostStatus[];
}

export async function statusReport(sources: StatusSources): Promise<StatusReport> {
  const { manifest } = await sources.ctx.root.load();
  const [statuses, views] = await Promise.all([statusAll(sources.ctx), listUsers(sources.ctx)]);
  const now = sources.now();
  const routes = sources.routes?.();
  const sockets = sources.webSockets?.();
  const usage = sources.usage?.();
  const users = await Promise.all(statuses.map(async (status): Promise<UserReport> => {
    const last = await lastBackupResult(sources.ctx.root.path, status.name);
    const route = routes?.get(status.name);
    return {
      ...status,
      url: views.find((v) => v.name === status.name)?.url ?? '',
      ...(route === undefined ? {} : { route, webSockets: sockets?.get(status.name) ?? 0 }),
      ...(last === undefined ? {} : { lastBackup: lastBackupOf(last, now) }),
      ...(usage === undefined ? {} : { models: modelSpend(manifest, usage, status.name, now) }),
    };
  }));
  return {
    time: new Date(now).toISOString(),
    domain: manifest.settings.domain,
    proxy: proxyOf(manifest),
    backups: { schedule: manifest.settings.backup.schedule, timezone: manifest.settings.timezone, running: sources.backupRunning?.() ?? false },
    users,
    ...(sources.tls === undefined ? {} : { tls: sources.tls() }),
  };
}

function lastBackupOf(last: NonNullable<Awaited<ReturnType<typeof lastBackupResult>>>, now: number): LastBackup {
  return {
    ok: last.ok,
    time: last.time,
    ageSeconds: Math.max(0, Math.round((now - Date.parse(last.time)) / 1000)),
    ...(last.archive === undefined ? {} : { archive: last.archive }),
    ...(last.bytes === undefined ? {} : { bytes: last.bytes }),
    ...(last.error === undefined ? {} : { error: last.error }),
  };
}

function proxyOf(manifest: Manifest): StatusReport['proxy'] {
  const { mode, listen, nginx } = manifest.settings.proxy;
  return { mode, listen: mode === 'embedded' ? listen : `${nginx.listenAddress === '' ? '*' : nginx.listenAddress}:${nginx.httpPort}` };
}
