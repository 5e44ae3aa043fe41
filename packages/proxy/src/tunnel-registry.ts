// Keeps the open WebSocket tunnels so shutdown can wait for them, then say
// 1001 to the ones still open after the grace period.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocketTunnel } from './websocket-tunnel.js';

export class TunnelRegistry {
  readonly #open = new Set<WebSocketTunnel>();

  add(tunnel: WebSocketTunnel): void {
    this.#open.add(tunnel);
    void tunnel.closed.then(() => this.#open.delete(tunnel));
  }

  get size(): number {
    return this.#open.size;
  }

  /** Open tunnels per user, for status pages. */
  countByUser(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const tunnel of this.#open) counts.set(tunnel.user, (counts.get(tunnel.user) ?? 0) + 1);
    return counts;
  }

  /**
   * Waits up to `graceMs` for tunnels to end on their own, then sends 1001 to
   * the rest and gives them `closeTimeoutMs` for the close handshake.
   */
  async drain(graceMs: number, closeTimeoutMs = 2_000): Promise<void> {
    if (this.#open.size === 0) return;
    await Promise.race([this.#allClosed(), sleep(graceMs, undefined, { ref: false })]);
    for (const tunnel of this.#open) tunnel.goAway();
    await Promise.race([this.#allClosed(), sleep(closeTimeoutMs, undefined, { ref: false })]);
    for (const tunnel of this.#open) tunnel.destroy();
  }

  async #allClosed(): Promise<void> {
    await Promise.all([...this.#open].map((tunnel) => tunnel.closed));
  }
}
