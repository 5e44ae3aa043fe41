// What benches share in one run: the CLI under test, one 50-user fleet
// (created once, started when a bench needs it running), ocm's proxy and nginx.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoot, userPorts, type BenchRoot, type Limits } from './bench-root.js';
import { countContainers } from './docker.js';
import { waitAllHealthy, waitRoute } from './health.js';
import { startNginx, startTunedNginx, type Nginx } from './nginx.js';
import { freePort } from './ports.js';
import { startService, type Service } from './service.js';

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
  /** Forgets the proxy and nginx (stopping them), e.g. after dockerd was restarted under them. */
  reset(): Promise<void>;
}

export function createContext(base: Pick<Ctx, 'quick' | 'reps' | 'runId' | 'ocmBin' | 'daemonAvailable' | 'tmp' | 'log'>): Ctx {
  let fleet: Promise<Fleet> | undefined;
  let proxy: Promise<OcmProxy> | undefined;
  const nginxes = new Map<string, Promise<Nginx>>();
  const fleetSize = base.quick ? 6 : 50;

  /** One nginx per key for the whole run, started on the running fleet and routing the target user. */
  const nginxOnce = (key: string, start: (f: Fleet) => Promise<Nginx>): Promise<Nginx> => {
    let n = nginxes.get(key);
    if (n === undefined) {
      n = (async () => {
        const nginx = await start(await ctx.running());
        await waitRoute(nginx.port, `${TARGET.name}.localhost`, 30_000);
        return nginx;
      })();
      nginxes.set(key, n);
    }
    return n;
  };

  const ctx: Ctx = {
    ...base,
    fleetSize,
    async reset() {
      const running = [proxy, ...nginxes.values()];
      proxy = undefined;
      nginxes.clear();
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
        for (const user of users) {
          const extra = user === TARGET.name ? ['--cpus', String(TARGET.cpus), '--memory', TARGET.memory] : [];
          await root.ocm(['add', user, '--no-start', ...extra]);
        }
        const ports = userPorts(root.root);
        if (ports.size !== users.length) throw new Error(`expected ${users.length} users in ocm.yaml, found ${ports.size}`);
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
      proxy ??= (async () => {
        const f = await ctx.running();
        const port = f.root.proxyPort;
        const ready = async () => {
          await waitRoute(port, `${TARGET.name}.localhost`, 500);
          return true;
        };
        const logFile = join(ctx.scratch('proxy'), 'proxy.log');
        if (base.daemonAvailable) {
          const s = await startService('ocm daemon', process.execPath, [base.ocmBin, '--root', f.root.root, 'daemon', '--log-level', 'warn'], { logFile, ready, timeoutMs: 60_000 });
          return { ...s, kind: 'ocm daemon' as const, port };
        }
        const script = fileURLToPath(new URL('./proxy-host.ts', import.meta.url));
        const s = await startService('embedded proxy', process.execPath, [...process.execArgv, script, f.root.root, String(port)], { logFile, ready, timeoutMs: 60_000 });
        return { ...s, kind: 'embedded proxy' as const, port };
      })();
      return proxy;
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
