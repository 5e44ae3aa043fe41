// Status-page sessions: a random id in an HttpOnly cookie, held only in
// memory (a restart signs everyone out), each with its own CSRF token.
import { randomBytes } from 'node:crypto';

export interface Session {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  /** Lifetime of a session (default 8 h). */
  ttlMs?: number;
  now?: () => number;
  /** Sessions kept at most; the oldest is dropped first (default 1000). */
  max?: number;
}

const randomId = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly ttlMs: number;
  readonly #now: () => number;
  readonly #max: number;

  constructor(options: SessionStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 8 * 3600_000;
    this.#now = options.now ?? Date.now;
    this.#max = options.max ?? 1000;
  }

  create(): Session {
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const session = { id: randomId(), csrf: randomId(), expiresAt: this.#now() + this.ttlMs };
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }
}
