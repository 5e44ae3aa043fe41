// The daemon's model meter: started once a provider is configured, listening
// on every user network's bridge gateway address, re-synced on each manifest
// change and every few seconds (a network appears when `ocm up` creates it).
import { userNetwork, type Manifest } from '@ocm/core';
import { ensureMeterSecret, MeterKeysReader, type DeploymentRoot } from '@ocm/store';
import type { MeterListeners, UsageStore } from '@ocm/meter';
import type { Logger } from 'pino';

export const USAGE_DB = 'usage.db';

export interface MeterServiceOptions {
  root: DeploymentRoot;
  manifest: () => Manifest;
  logger: Logger;
  /** Where to listen instead of the bridge gateway addresses (tests: 127.0.0.1 with port 0). */
  listenOverride?: { host: string; port: number };
  resyncMs?: number;
}

export class MeterService {
  private listeners: MeterListeners | undefined;
  private store: UsageStore | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MeterServiceOptions) {}

  /** The usage store, once the meter has run in this root (or undefined). */
  usage(): UsageStore | undefined {
    return this.store;
  }

  async apply(manifest: Manifest): Promise<void> {
    const providers = Object.keys(manifest.settings.models?.providers ?? {});
    if (providers.length === 0) {
      await this.listeners?.close();
      this.listeners = undefined;
      return;
    }
    if (this.listeners === undefined) {
      // Loaded only for a root that meters models: SQLite and the meter are about 6 MB of a daemon's memory.
      const { MeterListeners, meterConfig, meterHandler, openUsageStore } = await import('@ocm/meter');
      const log = this.options.logger;
      const secret = await ensureMeterSecret(this.options.root.path);
      const keys = new MeterKeysReader(this.options.root.path, (error) => log.error({ err: error.message }, 'meter.keys unreadable; the last good key versions stay in force'));
      this.store ??= openUsageStore(`${this.options.root.path}/${USAGE_DB}`);
      const handler = meterHandler({
        config: () => meterConfig(this.options.manifest()), secret, store: this.store, log,
        keyVersions: () => keys.current(),
        onCap: (user, d) => void this.options.root.audit({ actor: 'meter', action: 'budget.reached', target: user, details: { scope: d.scope, limitUsd: d.limit, spentUsd: d.spent, resetAt: new Date(d.resetAt).toISOString() } }),
      });
      this.listeners = new MeterListeners(handler, log);
      this.timer ??= setInterval(() => void this.sync(this.options.manifest()), this.options.resyncMs ?? 10_000);
      this.timer.unref();
    }
    await this.sync(manifest);
  }

  /** The port the meter got on an override address (tests). */
  port(): number | undefined {
    const o = this.options.listenOverride;
    return o === undefined ? undefined : this.listeners?.port(o.host, o.port);
  }

  private async sync(manifest: Manifest): Promise<void> {
    const port = manifest.settings.models?.listenPort;
    if (this.listeners === undefined || port === undefined) return;
    const wanted = this.options.listenOverride !== undefined
      ? [this.options.listenOverride]
      : manifest.users.map((u) => ({ host: userNetwork(manifest, u).gateway, port }));
    await this.listeners.sync(wanted);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.listeners?.close();
    this.store?.close();
    this.store = undefined;
  }
}
