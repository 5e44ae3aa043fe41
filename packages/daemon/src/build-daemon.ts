// The daemon, assembled: admin app, embedded proxy (or nginx sync), health
// probes, manifest watch and backup schedule, all built from ocm.yaml.
// Nothing listens until start(); stop() drains and closes in order.
import type { FastifyInstance } from 'fastify';
import { OcmError, type Manifest } from '@ocm/core';
import { DeploymentRoot, detectLocalClientAddress, ensureAdminToken } from '@ocm/store';
import type { ContainerEngine } from '@ocm/engine';
import { backupUsers, thawPaused, type RuntimeContext } from '@ocm/ops';
import { StaticRouteTable, createEmbeddedProxy, type EmbeddedProxy, type EmbeddedProxyOptions, type NginxControl, type ProxyAddress } from '@ocm/proxy';
import type { BackupScheduler, Clock, ScheduleFn } from '@ocm/backup';
import type { Logger } from 'pino';
import { buildAdminApp } from './admin-app.js';
import { BackupJobs } from './backup-jobs.js';
import { backupProcess, type RunBackups } from './backup-process.js';
import { startBackupSchedule } from './backup-schedule.js';
import { GatewayRoutes } from './gateway-routes.js';
import { isLoopbackHost, listenUrl, parseListen, type ListenAddress } from './listen-address.js';
import { ManifestWatcher } from './manifest-watcher.js';
import { acmeActive } from './acme-hosts.js';
import { NginxSync, withNginxLock } from './nginx-sync.js';
import { PolicyKeeper } from './policy-keeper.js';
import { SerialLane } from './serial-lane.js';
import { MeterService } from './meter-service.js';

export interface DaemonOptions {
  root: string | DeploymentRoot;
  engine: ContainerEngine;
  logger: Logger;
  /** Wall clock for backup names and ages. */
  clock?: Clock;
  /** Milliseconds now, for sessions, rate limits and health freshness. */
  now?: () => number;
  /** Health probe interval of healthy gateways (default 2 s). */
  healthIntervalMs?: number;
  /** Fallback poll of ocm.yaml (default 1 s). */
  watchPollMs?: number;
  /** Replaces node-cron (tests). */
  schedule?: ScheduleFn;
  /** Pause before a failed scheduled backup is retried (default 60 s). */
  backupRetryDelayMs?: number;
  /** How long stop() lets proxied requests and WebSockets finish before closing them (default 10 s). */
  drainGraceMs?: number;
  /** Replaces the real nginx commands in nginx mode (tests). */
  nginxControl?: NginxControl;
  /**
   * The ocm command line backups run in, as a child process (`ocm daemon`
   * passes itself), so a tenant's tree never weighs on the proxy's process.
   * Without it backups run in this process (tests).
   */
  backupCommand?: readonly string[];
  /** How often the network policy is re-checked and repaired (default 30 s). */
  policyIntervalMs?: number;
  /** The model meter listens here instead of each user network's bridge address (tests). */
  meterListen?: { host: string; port: number };
}

export interface ListenOverrides {
  admin?: Partial<ListenAddress>;
  proxy?: Partial<ListenAddress>;
  /** With ACME: the HTTPS listener (settings.proxy.listenTls); proxy is then the plain-HTTP one. */
  proxyTls?: Partial<ListenAddress>;
}

export interface DaemonAddresses {
  admin: ListenAddress & { url: string };
  proxy?: ProxyAddress;
  nginxConfDir?: string;
}

export interface Daemon {
  readonly adminApp: FastifyInstance;
  /** The embedded proxy; undefined in nginx mode. */
  readonly proxy: EmbeddedProxy | undefined;
  readonly scheduler: BackupScheduler | undefined;
  readonly routes: GatewayRoutes | undefined;
  readonly jobs: BackupJobs;
  /** The model meter (listening once a provider is configured). */
  readonly meter: MeterService;
  /** The manifest in force. */
  manifest(): Manifest;
  start(listen?: ListenOverrides): Promise<DaemonAddresses>;
  /** Looks at ocm.yaml now instead of waiting for the watch. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Pure: what of a settings change needs a daemon restart, by name. TLS paths
 * are reloaded live (embedded: the new pair is served; nginx: its files follow
 * the render), and so is everything under proxy.nginx; the listen addresses,
 * the proxy mode, and switching the embedded proxy between HTTP and HTTPS are
 * read once at start.
 */
export function restartNeeded(before: Manifest['settings'], next: Manifest['settings']): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (before.proxy.mode !== next.proxy.mode) out.push('settings.proxy.mode');
  if (next.proxy.mode === 'embedded') {
    if (before.proxy.listen !== next.proxy.listen) out.push('settings.proxy.listen');
    if (before.proxy.localClientAddress !== next.proxy.localClientAddress) out.push('settings.proxy.localClientAddress');
    const secure = (s: Manifest['settings']): boolean => s.tls.certificate !== undefined && s.tls.key !== undefined;
    if (secure(before) !== secure(next)) out.push('settings.tls');
    if (before.proxy.listenTls !== next.proxy.listenTls) out.push('settings.proxy.listenTls');
  }
  if (!same(before.tls.acme, next.tls.acme)) out.push('settings.tls.acme');
  if (!same(before.admin, next.admin)) out.push('settings.admin');
  return out;
}

export async function buildDaemon(options: DaemonOptions): Promise<Daemon> {
  const root = typeof options.root === 'string' ? new DeploymentRoot(options.root) : options.root;
  const log = options.logger;
  const proxyLog = log.child({ component: 'proxy' });
  const backupLog = log.child({ component: 'backup' });
  const now = options.now ?? Date.now;
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const loaded = await root.load();
  // A daemon must not start on a manifest that lost its users: it would serve "not configured" for them.
  await root.assertNotLost(loaded);
  const { manifest: initial, text: initialText } = loaded;
  const adminToken = await ensureAdminToken(root.path);
  let current = initial;
  const mode = initial.settings.proxy.mode;

  const lane = new SerialLane();
  const runtime = (actor: string): RuntimeContext => ({ root, engine: options.engine, actor });
  const policy = new PolicyKeeper({
    ctx: runtime('daemon'), logger: log.child({ component: 'netpolicy' }),
    ...(options.policyIntervalMs === undefined ? {} : { intervalMs: options.policyIntervalMs }),
  });
  const runBackups: RunBackups = options.backupCommand === undefined
    ? (names, runOptions) => backupUsers(runtime(runOptions?.scheduled === true ? 'schedule' : 'api'), names, { ...clock, ...runOptions })
    : backupProcess({ command: options.backupCommand, root: root.path, engine: options.engine, manifest: () => current, logger: backupLog });
  const jobs = new BackupJobs({ lane, now, run: (names) => runBackups(names) });
  const meter = new MeterService({
    root, manifest: () => current, logger: log.child({ component: 'meter' }),
    ...(options.meterListen === undefined ? {} : { listenOverride: options.meterListen }),
  });

  let proxy: EmbeddedProxy | undefined;
  let routes: GatewayRoutes | undefined;
  let nginx: NginxSync | undefined;
  const acmeLog = log.child({ component: 'acme' });
  // nginx: a new certificate is in the files the confs name; nginx loads it on a tested reload.
  const reloadNginx = async (): Promise<void> => void (await nginx?.apply(current, true));
  // The ACME client is loaded only for a root that uses it (about 10 MB of a daemon's memory).
  const acme = acmeActive(initial.settings)
    ? (await import('./acme-keeper.js')).createAcmeKeeper({
      root: root.path, manifest: initial, logger: acmeLog,
      // nginx: certificates are written under the lock the CLI's and daemon's placeholders are written under.
      ...(mode === 'nginx' ? { onCertificate: reloadNginx, writeLock: <T>(fn: () => Promise<T>) => withNginxLock(root.path, fn) } : {}),
    })
    : undefined;
  if (mode === 'embedded') {
    const table = new StaticRouteTable();
    routes = new GatewayRoutes({ table, logger: proxyLog, now, ...(options.healthIntervalMs === undefined ? {} : { intervalMs: options.healthIntervalMs }) });
    routes.update(initial);
    const { certificate, key } = initial.settings.tls;
    // A browser on this machine is forwarded as one of the host's own
    // non-loopback addresses: the gateway refuses a loopback or missing one.
    const proxyOptions: EmbeddedProxyOptions = {
      routes: table,
      logger: proxyLog,
      localClientAddress: initial.settings.proxy.localClientAddress ?? detectLocalClientAddress(),
      onUpstreamAnswer: (route) => routes?.served(route.user),
      ...(options.drainGraceMs === undefined ? {} : { drainGraceMs: options.drainGraceMs }),
      ...(certificate !== undefined && key !== undefined ? { tls: { certPath: certificate, keyPath: key } } : {}),
      ...(acme === undefined ? {} : { sni: (name: string) => acme.sni.lookup(name), challenges: (path: string) => acme.challenges.answer(path) }),
    };
    proxy = await createEmbeddedProxy(proxyOptions);
  } else {
    nginx = new NginxSync({ root, manifest: initial, logger: proxyLog, ...(options.nginxControl === undefined ? {} : { control: options.nginxControl }) });
  }

  let scheduler: BackupScheduler | undefined;
  let watcher: ManifestWatcher | undefined;
  const schedule = (manifest: Manifest): BackupScheduler | undefined => {
    try {
      return startBackupSchedule({
        manifest, lane, logger: backupLog, run: runBackups,
        ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
        ...(options.backupRetryDelayMs === undefined ? {} : { retryDelayMs: options.backupRetryDelayMs }),
      });
    } catch (err) {
      backupLog.error({ err: (err as Error).message }, 'backups are not scheduled');
      return undefined;
    }
  };

  const adminApp = await buildAdminApp({
    root, engine: options.engine, adminToken, logger: log.child({ component: 'admin' }), jobs, now,
    status: {
      ...(routes === undefined ? {} : { routes: () => routes.states() }),
      ...(proxy === undefined ? {} : { webSockets: () => proxy.openWebSockets() }),
      backupRunning: () => scheduler?.running === true,
      usage: () => meter.usage(),
      ...(acme === undefined ? {} : { tls: () => acme.status() }),
    },
    ...(acme === undefined ? {} : { tls: acme }),
    ...(routes === undefined ? {} : { gatewaysChanged: (name: string) => routes.refresh(true, name) }),
    // nginx passes the CA's HTTP-01 requests here (the embedded proxy answers them itself).
    ...(acme !== undefined && mode === 'nginx' ? { challenges: (path: string) => acme.challenges.answer(path) } : {}),
    edited: () => void watcher?.check(),
    usage: () => meter.usage(),
  });

  async function apply(next: Manifest): Promise<void> {
    const before = current;
    current = next;
    for (const setting of restartNeeded(before.settings, next.settings)) {
      log.child({ component: 'watch' }).warn({ setting }, 'this setting changed; restart the daemon to apply it');
    }
    routes?.update(next);
    // nginx's binary, main config or conf dir changed: from now on, that nginx.
    if (nginx !== undefined && next.settings.proxy.mode === 'nginx' && JSON.stringify(before.settings.proxy.nginx) !== JSON.stringify(next.settings.proxy.nginx)) {
      nginx = new NginxSync({ root, manifest: next, logger: proxyLog, ...(options.nginxControl === undefined ? {} : { control: options.nginxControl }) });
    }
    await nginx?.apply(next);
    await reloadTls(before, next);
    await acme?.apply(next);
    await policy.apply(next, 'manifest changed');
    await meter.apply(next);
    const b = before.settings;
    const n = next.settings;
    if (b.backup.schedule !== n.backup.schedule || b.timezone !== n.timezone) {
      await scheduler?.stop();
      scheduler = schedule(next);
      backupLog.info({ schedule: n.backup.schedule, timezone: n.timezone }, 'backup schedule changed');
    }
  }

  /** Embedded HTTPS: a changed certificate or key path is served from now on (renewed files: SIGHUP). */
  async function reloadTls(before: Manifest | undefined, next: Manifest): Promise<void> {
    const { certificate, key } = next.settings.tls;
    if (proxy === undefined || certificate === undefined || key === undefined || proxy.app.server.listening !== true) return;
    if (before !== undefined && (before.settings.tls.certificate === undefined || JSON.stringify(before.settings.tls) === JSON.stringify(next.settings.tls))) return;
    try {
      await proxy.reloadTls({ certPath: certificate, keyPath: key });
      proxyLog.info({ certificate }, 'TLS certificate loaded; new connections get it');
    } catch (err) {
      proxyLog.error({ err: (err as Error).message, certificate }, 'the TLS certificate was not changed; the previous one is still served');
    }
  }

  let started = false;
  let stopping: Promise<void> | undefined;

  async function start(listen: ListenOverrides = {}): Promise<DaemonAddresses> {
    if (started) throw new OcmError('OCM_E_INTERNAL', 'the daemon was already started');
    started = true;
    try {
      // The policy first: the gateways may already run (a reboot starts them with dockerd).
      await policy.start(current);
      // A daemon killed during a backup's freeze left that gateway paused; nothing else would thaw it.
      try {
        for (const name of await thawPaused(runtime('daemon'))) log.warn({ container: name }, 'thawed a gateway left paused by an interrupted backup');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not check for paused gateways');
      }
      // Probe first, so the proxy does not answer 503 for healthy gateways in its first seconds.
      await routes?.start();
      await meter.apply(current);
      if (nginx !== undefined) await nginx.apply(current);
      const addresses: Partial<DaemonAddresses> = {};
      if (proxy !== undefined) {
        const wanted = parseListen(current.settings.proxy.listen, 'settings.proxy.listen');
        const plain = { host: listen.proxy?.host ?? wanted.host, port: listen.proxy?.port ?? wanted.port };
        if (acme === undefined) addresses.proxy = await proxy.listen(plain);
        else {
          // One address for both listeners (the usual 0.0.0.0:80 and 0.0.0.0:443): HTTPS on listenTls, HTTP on listen's port.
          const tls = parseListen(current.settings.proxy.listenTls ?? '', 'settings.proxy.listenTls');
          addresses.proxy = await proxy.listen({ host: listen.proxyTls?.host ?? tls.host, port: listen.proxyTls?.port ?? tls.port, redirectHttpPort: plain.port });
          // Orders start once the HTTP listener can answer the CA's challenges.
          await acme.apply(current);
        }
      }
      if (nginx !== undefined) addresses.nginxConfDir = nginx.confDir;
      const wanted = parseListen(current.settings.admin.listen, 'settings.admin.listen');
      const admin = { host: listen.admin?.host ?? wanted.host, port: listen.admin?.port ?? wanted.port };
      try {
        await adminApp.listen(admin);
      } catch (err) {
        throw new OcmError('OCM_E_PROXY_LISTEN', `the admin API cannot listen on ${admin.host}:${admin.port} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
          cause: err,
          hint: 'choose another settings.admin.listen address, or stop what is using it',
        });
      }
      const address = adminApp.server.address();
      if (address !== null && typeof address === 'object') admin.port = address.port;
      // nginx passes the CA's challenges to the admin listener: orders start once it answers.
      if (nginx !== undefined) await acme?.apply(current);
      if (!isLoopbackHost(admin.host)) log.warn({ host: admin.host }, 'the admin API is reachable from other machines over plain HTTP; keep it on 127.0.0.1 or put TLS in front');
      watcher = new ManifestWatcher({
        dir: root.path, logger: log.child({ component: 'watch' }), initialText, onChange: apply,
        vet: (manifest, text) => root.assertNotLost({ manifest, text }, undefined, current.users.map((u) => u.name)),
        ...(options.watchPollMs === undefined ? {} : { pollMs: options.watchPollMs }),
      });
      watcher.start();
      scheduler = schedule(current);
      return { ...addresses, admin: { ...admin, url: listenUrl(admin) } };
    } catch (err) {
      await stop();
      throw err;
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      await watcher?.stop();
      // The rules stay: a stopped daemon must not open the host to the gateways.
      await policy.stop();
      await routes?.stop();
      // Both listeners stop accepting at once; in-flight requests finish, WebSockets get 1001.
      acme?.close();
      await Promise.all([adminApp.close(), proxy?.close()]);
      await scheduler?.stop();
      await jobs.settle();
      await meter.stop();
    })();
    return stopping;
  }

  return {
    adminApp,
    proxy,
    get scheduler() {
      return scheduler;
    },
    routes,
    jobs,
    meter,
    manifest: () => current,
    start,
    // SIGHUP: the manifest, and the certificate files read again (renewed in place, e.g. by certbot).
    reload: async () => {
      await watcher?.check();
      await reloadTls(undefined, current);
    },
    stop,
  };
}
