// The embedded proxy's routes: <name>.<domain> -> 127.0.0.1:<port>, 'up'
// while the user's gateway answered /healthz recently. Manifest changes and
// health changes each swap the whole table at once, so a request never sees
// half an update and open connections of other users are never touched.
import { userHost, type Manifest } from '@ocm/core';
import { httpHealthProbe, mapLimit, type HealthProbe } from '@ocm/engine';
import type { Route, StaticRouteTable } from '@ocm/proxy';
import type { Logger } from 'pino';

export interface GatewayRoutesOptions {
  table: StaticRouteTable;
  logger: Logger;
  probe?: HealthProbe;
  /** How often a healthy gateway is probed (default 2 s). */
  intervalMs?: number;
  /** Tick of the probe loop: gateways that are down are probed on every tick, so a new one is routable quickly (default 500 ms). */
  downIntervalMs?: number;
  /** A gateway whose last good answer is older than this is down (default 3 intervals). */
  staleAfterMs?: number;
  now?: () => number;
}

interface Target {
  host: string;
  port: number;
  enabled: boolean;
}

interface Health {
  port: number;
  lastOk?: number;
  nextProbe: number;
  detail: string;
}

/** Connection-level failures mean nothing listens any more: down at once, no grace. */
const GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH']);

export class GatewayRoutes {
  readonly #table: StaticRouteTable;
  readonly #log: Logger;
  readonly #probe: HealthProbe;
  readonly #interval: number;
  readonly #downInterval: number;
  readonly #stale: number;
  readonly #now: () => number;
  #targets = new Map<string, Target>();
  readonly #health = new Map<string, Health>();
  #states = new Map<string, Route['state']>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: GatewayRoutesOptions) {
    this.#table = options.table;
    this.#log = options.logger;
    this.#probe = options.probe ?? httpHealthProbe(1500);
    this.#interval = options.intervalMs ?? 2000;
    this.#downInterval = options.downIntervalMs ?? 500;
    this.#stale = options.staleAfterMs ?? this.#interval * 3;
    this.#now = options.now ?? Date.now;
  }

  /** Takes the users of a (re)loaded manifest; new users are probed on the next tick. */
  update(manifest: Manifest): void {
    const next = new Map<string, Target>();
    for (const user of manifest.users) next.set(user.name, { host: userHost(manifest, user.name), port: user.port, enabled: user.enabled });
    for (const name of this.#health.keys()) if (next.get(name)?.port !== this.#health.get(name)?.port) this.#health.delete(name);
    this.#targets = next;
    this.#publish();
    this.#schedule(0);
  }

  /**
   * The proxy saw this user's gateway answer a request: as good as a probe.
   * A gateway busy enough to miss its probe's deadline is then not taken for
   * down (and its users sent a 503) while it is serving them.
   */
  served(name: string): void {
    const health = this.#health.get(name);
    const target = this.#targets.get(name);
    if (health === undefined || target === undefined || health.port !== target.port) return;
    // A refused probe is the stronger word: a request answered while the gateway shut down does not revive it.
    if (GONE.has(health.detail)) return;
    health.lastOk = this.#now();
  }

  /** Route state per user, as the proxy sees it now. */
  states(): ReadonlyMap<string, Route['state']> {
    return this.#states;
  }

  /** Probes every enabled gateway that is due (all of them with force, or only `only`'s) and republishes. */
  async refresh(force = false, only?: string): Promise<void> {
    const now = this.#now();
    // Down gateways are probed on every tick, so one that just came up is routable within a tick.
    const due = [...this.#targets].filter(([name, t]) => t.enabled && (only === undefined || name === only) && (force || this.#states.get(name) !== 'up' || (this.#health.get(name)?.nextProbe ?? 0) <= now));
    await mapLimit(due, 8, async ([name, target]) => {
      const result = await this.#probe(target.port);
      const at = this.#now();
      const previous = this.#health.get(name);
      const health: Health = { port: target.port, nextProbe: 0, detail: result.detail };
      if (result.ok) health.lastOk = at;
      else if (!GONE.has(result.detail) && previous?.port === target.port && previous.lastOk !== undefined) health.lastOk = previous.lastOk;
      this.#health.set(name, health);
    });
    this.#publish();
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.refresh(true);
    this.#schedule(this.#downInterval);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.refresh()
        .catch((err: unknown) => this.#log.error({ err }, 'health probe round failed'))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#downInterval);
        });
    }, delay);
    this.#timer.unref();
  }

  #stateOf(name: string, target: Target, now: number): Route['state'] {
    const lastOk = this.#health.get(name)?.lastOk;
    return target.enabled && lastOk !== undefined && now - lastOk <= this.#stale ? 'up' : 'down';
  }

  #publish(): void {
    const now = this.#now();
    const states = new Map<string, Route['state']>();
    const routes: Array<[string, Route]> = [];
    for (const [name, target] of this.#targets) {
      const state = this.#stateOf(name, target, now);
      states.set(name, state);
      routes.push([target.host, { user: name, port: target.port, upstreamHost: '127.0.0.1', state }]);
      const health = this.#health.get(name);
      if (health !== undefined && health.nextProbe === 0) health.nextProbe = now + this.#interval;
      const before = this.#states.get(name);
      if (before !== undefined && before !== state) {
        this.#log.info({ user: name, state, detail: health?.detail }, state === 'up' ? 'gateway is up' : 'gateway is down');
      }
    }
    this.#table.set(routes);
    this.#states = states;
  }
}
