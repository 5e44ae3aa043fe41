// Keeps the tenant network policy in place while the daemon runs: applied at
// start and whenever ocm.yaml changes, and re-checked on a timer, because a
// dockerd restart rebuilds DOCKER-USER and drops ocm's jump, and a reboot
// empties the firewall. A failed check is logged and retried, never fatal.
import type { Manifest } from '@ocm/core';
import { ensureNetworkPolicy, type RuntimeContext } from '@ocm/ops';
import type { Logger } from 'pino';

export interface PolicyKeeperOptions {
  ctx: RuntimeContext;
  logger: Logger;
  /** Re-check interval (default 30 s). */
  intervalMs?: number;
}

export class PolicyKeeper {
  readonly #options: PolicyKeeperOptions;
  #manifest: Manifest | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #warnedOpen = false;

  constructor(options: PolicyKeeperOptions) {
    this.#options = options;
  }

  /** Apply for this manifest now; later ticks use it too. */
  apply(manifest: Manifest, reason: string): Promise<void> {
    this.#manifest = manifest;
    // One apply at a time; the next one sees the newest manifest.
    this.#running = this.#running.then(() => this.#once(reason));
    return this.#running;
  }

  start(manifest: Manifest): Promise<void> {
    const first = this.apply(manifest, 'start');
    this.#timer = setInterval(() => {
      if (this.#manifest !== undefined) void this.apply(this.#manifest, 'check');
    }, this.#options.intervalMs ?? 30_000);
    this.#timer.unref();
    return first;
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #once(reason: string): Promise<void> {
    const manifest = this.#manifest;
    if (manifest === undefined) return;
    const log = this.#options.logger;
    try {
      const result = await ensureNetworkPolicy(this.#options.ctx, manifest);
      if (result.warning !== undefined && !this.#warnedOpen) log.warn(result.warning);
      this.#warnedOpen = result.warning !== undefined;
      if (result.changes.length > 0) {
        const changes = result.changes.map((c) => `${c.action} ${c.chain}`);
        if (reason === 'check') log.warn({ changes }, 'the network policy was not whole; restored');
        else log.info({ changes, reason }, 'network policy applied');
      }
    } catch (err) {
      log.error({ err: (err as Error).message, reason }, 'the network policy could not be applied; retrying on the next check');
    }
  }
}
