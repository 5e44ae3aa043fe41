// Failed admin-token attempts per client address: after `limit` failures in
// one window every request from that address is refused until the window
// ends, so the token cannot be guessed faster than a handful per minute.
export interface FailureLimiterOptions {
  /** Failures allowed per window (default 10). */
  limit?: number;
  /** Window length (default 60 s). */
  windowMs?: number;
  now?: () => number;
  /** Addresses remembered at most; expired ones are dropped first (default 10 000). */
  maxClients?: number;
}

interface Window {
  count: number;
  resetAt: number;
}

export class FailureLimiter {
  readonly #clients = new Map<string, Window>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #max: number;

  constructor(options: FailureLimiterOptions = {}) {
    this.#limit = options.limit ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#max = options.maxClients ?? 10_000;
  }

  /** Milliseconds until `client` may try again; 0 when it is not blocked. */
  blockedFor(client: string): number {
    const entry = this.#clients.get(client);
    if (entry === undefined) return 0;
    const left = entry.resetAt - this.#now();
    if (left <= 0) {
      this.#clients.delete(client);
      return 0;
    }
    return entry.count >= this.#limit ? left : 0;
  }

  fail(client: string): void {
    const now = this.#now();
    const entry = this.#clients.get(client);
    if (entry !== undefined && entry.resetAt > now) {
      entry.count += 1;
      return;
    }
    if (this.#clients.size >= this.#max) this.#prune(now);
    this.#clients.set(client, { count: 1, resetAt: now + this.#windowMs });
  }

  #prune(now: number): void {
    for (const [client, entry] of this.#clients) if (entry.resetAt <= now) this.#clients.delete(client);
    // Still full: forget the oldest windows rather than grow without bound.
    for (const client of this.#clients.keys()) {
      if (this.#clients.size < this.#max) break;
      this.#clients.delete(client);
    }
  }
}
