// What benches share in one run: the CLI under test, one 50-user fleet
// (created once, started when a bench needs it running), ocm's proxy and nginx,
// over plain HTTP and, from a second root routing the same gateways, HTTPS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoot, userPorts, type BenchRoot, type Limits } from './bench-root.js';
import { countContainers } from './docker.js';
import { waitAllHealthy, waitRoute } from './health.js';
import { startNginx, startTunedNginx, type Nginx } from './nginx.js';
import { freePort } from './ports.js';
import { startService, type Service } from './service.js';
import { selfSignedCert, type CertFiles } from './tls-cert.js';

/** The limits every fleet user gets, to fit 50 gateways on a 2-core, 24 GiB machine. */
export const FLEET_LIMITS: Limits = { cpus: 0.25, memory: '128m', pids: 64 };
/** The user the proxy benches load: unthrottled, so the gateway is not what is measured. */
export const TARGET = { name: 'alice', cpus: 2, memory: '256m' };

export interface Fleet {
  root: BenchRoot;
  users: string[];
  ports: Map<string, number>;
  label: string;
}

/**
 * A second root with settings.tls (a self-signed certificate) and the fleet's
 * users on the same ports, no containers of its own: its daemon and rendered
 * confs serve HTTPS in front of the fleet's gateways, and the fleet's root
 * (and so the plain-HTTP sides) stays as it is.
 */
export interface TlsFleet { root: BenchRoot; cert: CertFiles }

export interface OcmProxy extends Service {
  kind: 'ocm daemon' | 'embedded proxy';
  port: number;
}

export interface Ctx {
  quick: boolean;
  reps: number;
  runId: string;
  ocmBin: string;
  daemonAvailable: boolean;
  tmp: string;
  log(line: string): void;
  scratch(name: string): string;
  fleetSize: number;
  fleet(): Promise<Fleet>;
  /** The fleet with every gateway running and healthy. */
  running(): Promise<Fleet>;
  ocmProxy(): Promise<OcmProxy>;
  nginx(workers: 'auto' | '1'): Promise<Nginx>;
  /** nginx on the hand-tuned conf for the target user (1 worker): what the targets are measured against. */
  tunedNginx(): Promise<Nginx>;
  tlsFleet(): Promise<TlsFleet>;
  /** ocm's proxy on the TLS root: HTTPS on its port. */
  ocmTlsProxy(): Promise<OcmProxy>;
  /** nginx (1 worker) on the TLS root's rendered confs; its port is the HTTPS one. */
  renderedTlsNginx(): Promise<Nginx>;
  /** tunedNginx() with HTTPS, the same certificate and a tuning guide's TLS settings. */
  tunedTlsNginx(): Promise<Nginx>;
  /** Forgets the proxy and nginx (stopping them), e.g. after dockerd was restarted under them. */
  reset(): Promise<void>;
  /** Stops the HTTPS sides, so they take no CPU or memory from the benches after theirs. */
  stopTls(): Promise<void>;
}

export function createContext(base: Pick<Ctx, 'quick' | 'reps' | 'runId' | 'ocmBin' | 'daemonAvailable' | 'tmp' | 'log'>): Ctx {
  let fleet: Promise<Fleet> | undefined;
  let proxy: Promise<OcmProxy> | undefined;
  let tlsFleet: Promise<TlsFleet> | undefined;
  let tlsProxy: Promise<OcmProxy> | undefined;
  const nginxes = new Map<string, Promise<Nginx>>();
  const fleetSize = base.quick ? 6 : 50;

  /** One nginx per key for the whole run, started on the running fleet and routing the target user (over HTTPS with `tls`). */
  const nginxOnce = (key: string, start: (f: Fleet) => Promise<Nginx>, tls = false): Promise<Nginx> => {
    let n = nginxes.get(key);
    if (n === undefined) {
      n = (async () => {
        const nginx = await start(await ctx.running());
        await waitRoute(nginx.port, `${TARGET.name}.localhost`, 30_000, tls);
        return nginx;
      })();
      nginxes.set(key, n);
    }
    return n;
  };

  /** The users of `users` added to `root` without starting them, the target unthrottled. */
  const addUsers = async (root: BenchRoot, users: readonly string[]): Promise<Map<string, number>> => {
    for (const user of users) {
      const extra = user === TARGET.name ? ['--cpus', String(TARGET.cpus), '--memory', TARGET.memory] : [];
      await root.ocm(['add', user, '--no-start', ...extra]);
    }
    const ports = userPorts(root.root);
    if (ports.size !== users.length) throw new Error(`expected ${users.length} users in ocm.yaml, found ${ports.size}`);
    return ports;
  };

  /** ocm's proxy for `root` on its settings.proxy.listen port: `ocm daemon`, else the embedded proxy in a process of its own. */
  const startProxy = async (root: BenchRoot, logDir: string, cert?: CertFiles): Promise<OcmProxy> => {
    const port = root.proxyPort;
    const ready = async () => {
      await waitRoute(port, `${TARGET.name}.localhost`, 500, cert !== undefined);
      return true;
    };
    const logFile = join(ctx.scratch(logDir), 'proxy.log');
    if (base.daemonAvailable) {
      const s = await startService('ocm daemon', process.execPath, [base.ocmBin, '--root', root.root, 'daemon', '--log-level', 'warn'], { logFile, ready, timeoutMs: 60_000 });
      return { ...s, kind: 'ocm daemon' as const, port };
    }
    const script = fileURLToPath(new URL('./proxy-host.ts', import.meta.url));
    const tlsArgs = cert === undefined ? [] : [cert.certificate, cert.key];
    const s = await startService('embedded proxy', process.execPath, [...process.execArgv, script, root.root, String(port), ...tlsArgs], { logFile, ready, timeoutMs: 60_000 });
    return { ...s, kind: 'embedded proxy' as const, port };
  };

  const ctx: Ctx = {
    ...base,
    fleetSize,
    async reset() {
      const running = [proxy, tlsProxy, ...nginxes.values()];
      proxy = undefined;
      tlsProxy = undefined;
      nginxes.clear();
      for (const p of running) await (await p?.catch(() => undefined))?.stop();
    },
    async stopTls() {
      const running = [tlsProxy, nginxes.get('tls-rendered'), nginxes.get('tls-tuned')];
      tlsProxy = undefined;
      for (const key of ['tls-rendered', 'tls-tuned']) nginxes.delete(key);
      for (const p of running) await (await p?.catch(() => undefined))?.stop();
    },
    scratch(name) {
      const dir = join(base.tmp, name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    fleet() {
      fleet ??= (async () => {
        const root = await createRoot(base.ocmBin, {
          project: 'bench', portBase: 14100, portCount: 100, pool: '10.253.0.0/16', limits: FLEET_LIMITS, runId: base.runId,
        });
        const users = [TARGET.name, ...Array.from({ length: fleetSize - 1 }, (_, i) => `u${String(i + 2).padStart(2, '0')}`)];
        base.log(`  fleet: adding ${users.length} users with --no-start`);
        const ports = await addUsers(root, users);
        return { root, users, ports, label: `ocm.root=${root.root}` };
      })();
      return fleet;
    },
    async running() {
      const f = await ctx.fleet();
      if ((await countContainers(f.label, true)) !== f.users.length) {
        base.log(`  fleet: starting ${f.users.length} gateways (ocm up)`);
        await f.root.ocm(['up'], { timeoutMs: 900_000 });
      }
      await waitAllHealthy([...f.ports.values()], 180_000);
      return f;
    },
    ocmProxy() {
      proxy ??= (async () => startProxy((await ctx.running()).root, 'proxy'))();
      return proxy;
    },
    tlsFleet() {
      tlsFleet ??= (async () => {
        const f = await ctx.fleet();
        const cert = await selfSignedCert(ctx.scratch('tls'), `${TARGET.name}.localhost`, 'localhost');
        // The fleet's port base and user order: ocm hands out the same ports, so its routes lead to the fleet's gateways.
        const root = await createRoot(base.ocmBin, {
          project: 'benchtls', portBase: f.root.portBase, portCount: 100, pool: '10.252.0.0/16', limits: FLEET_LIMITS, runId: base.runId, tls: cert,
        });
        base.log(`  TLS root: adding the fleet's ${f.users.length} users with --no-start`);
        const ports = await addUsers(root, f.users);
        const moved = f.users.filter((u) => ports.get(u) !== f.ports.get(u));
        if (moved.length > 0) throw new Error(`the TLS root gave ${moved.join(', ')} other ports than the fleet's`);
        return { root, cert };
      })();
      return tlsFleet;
    },
    ocmTlsProxy() {
      tlsProxy ??= (async () => {
        await ctx.running();
        const t = await ctx.tlsFleet();
        return startProxy(t.root, 'proxy-tls', t.cert);
      })();
      return tlsProxy;
    },
    renderedTlsNginx() {
      return nginxOnce('tls-rendered', async () => {
        const { root } = await ctx.tlsFleet();
        return startNginx(ctx.scratch('nginx-tls-1'), root.root, { renderedPort: root.nginxHttpsPort, port: root.nginxHttpsPort, workers: '1' });
      }, true);
    },
    tunedTlsNginx() {
      return nginxOnce('tls-tuned', async (f) => {
        const { cert } = await ctx.tlsFleet();
        return startTunedNginx(ctx.scratch('nginx-tls-tuned'), { port: await freePort(), upstreamPort: f.ports.get(TARGET.name) as number, host: `${TARGET.name}.localhost`, tls: cert });
      }, true);
    },
    nginx(workers) {
      return nginxOnce(workers, async (f) => {
        // The rendered confs listen on settings.proxy.nginx.httpPort; a second nginx gets a copy on another port.
        const port = workers === 'auto' ? f.root.nginxPort : await freePort();
        return startNginx(ctx.scratch(`nginx-${workers}`), f.root.root, { renderedPort: f.root.nginxPort, port, workers });
      });
    },
    tunedNginx() {
      return nginxOnce('tuned', async (f) =>
        startTunedNginx(ctx.scratch('nginx-tuned'), { port: await freePort(), upstreamPort: f.ports.get(TARGET.name) as number, host: `${TARGET.name}.localhost` }),
      );
    },
  };
  return ctx;
}
