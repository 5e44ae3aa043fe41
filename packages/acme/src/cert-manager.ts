// Keeps one certificate per user host: loads what is on disk, orders what is
// missing or due (one order at a time), backs off after a failure and says
// when it will try again. Only hosts handed to setHosts are ever ordered.
import { OcmError, quote } from '@ocm/core';
import { describeAcmeFailure } from './failure-words.js';
import type { CertStore, StoredCert } from './cert-store.js';
import type { Issuer } from './acme-issuer.js';
import { dueAt, planIssuance, type Failure, type HostState } from './renewal-policy.js';

export interface CertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CertManagerOptions {
  store: CertStore;
  issuer: Issuer;
  now?: () => number;
  logger?: CertLogger;
  /**
   * Called for every certificate the manager holds: `issued` after a new one
   * is on disk (hot-swap it into the proxy, reload nginx), `loaded` for one
   * found on disk when its host is handed over (the proxy learns it; nginx
   * already read the file when it was last reloaded, so it needs nothing).
   */
  onCertificate?: (host: string, cert: StoredCert, how: 'issued' | 'loaded') => void | Promise<void>;
  /** Called after every order, issued or failed (record the status). */
  onSettled?: (status: HostStatus[]) => void | Promise<void>;
}

export interface HostStatus {
  host: string;
  issuer?: string;
  notAfter?: string;
  daysLeft?: number;
  serial?: string;
  lastError?: string;
  nextAttempt?: string;
}

export interface CertManager {
  /** The users' hosts now; new ones are ordered, dropped ones forgotten (their files stay). */
  setHosts(hosts: readonly string[]): Promise<void>;
  /** Orders the named hosts (all when empty) that are due, or all of them with force; resolves when done. */
  renew(hosts?: readonly string[], force?: boolean): Promise<HostStatus[]>;
  status(): HostStatus[];
  certificate(host: string): StoredCert | undefined;
  /** Resolves when no order is running or queued. */
  idle(): Promise<void>;
  close(): void;
}

// setTimeout takes at most 2^31-1 ms; look again at least twice a day.
const MAX_SLEEP_MS = 12 * 3600_000;

export function createCertManager(options: CertManagerOptions): CertManager {
  const now = options.now ?? Date.now;
  const certs = new Map<string, StoredCert>();
  const failures = new Map<string, Failure>();
  let hosts: string[] = [];
  let lane: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const state = (host: string): HostState => {
    const cert = certs.get(host);
    const failure = failures.get(host);
    return { ...(cert ? { cert } : {}), ...(failure ? { failure } : {}) };
  };

  async function order(host: string): Promise<void> {
    if (closed || !hosts.includes(host)) return;
    try {
      const pair = await options.issuer.issue(host);
      const stored = await options.store.write(host, pair);
      certs.set(host, stored);
      failures.delete(host);
      options.logger?.info({ host, serial: stored.serial, notAfter: new Date(stored.notAfter).toISOString() }, 'certificate issued');
      await options.onCertificate?.(host, stored, 'issued');
    } catch (err) {
      const previous = failures.get(host);
      const message = acmeError(host, err).message;
      failures.set(host, { attempts: (previous?.attempts ?? 0) + 1, at: now(), message });
      options.logger?.warn({ host, err: message, attempts: (previous?.attempts ?? 0) + 1 }, 'certificate order failed');
    }
    try {
      await options.onSettled?.(hosts.map(statusOf));
    } catch (err) {
      options.logger?.warn({ err: (err as Error).message }, 'certificate status not recorded');
    }
  }

  function enqueue(work: () => Promise<void>): Promise<void> {
    lane = lane.then(work, work);
    return lane;
  }

  function schedule(): void {
    clearTimeout(timer);
    if (closed) return;
    const plan = planIssuance(hosts, new Map(hosts.map((h) => [h, state(h)])), now());
    if (plan.due.length > 0) {
      void enqueue(async () => {
        for (const host of plan.due) if (dueAt(state(host), now()) <= now()) await order(host);
      }).then(schedule);
      return;
    }
    if (plan.nextAt === undefined) return;
    timer = setTimeout(schedule, Math.min(MAX_SLEEP_MS, Math.max(1_000, plan.nextAt - now())));
    timer.unref();
  }

  function statusOf(host: string): HostStatus {
    const cert = certs.get(host);
    const failure = failures.get(host);
    const out: HostStatus = { host };
    if (cert) {
      out.issuer = cert.issuer;
      out.notAfter = new Date(cert.notAfter).toISOString();
      out.daysLeft = Math.floor((cert.notAfter - now()) / 86_400_000);
      out.serial = cert.serial;
    }
    if (failure) out.lastError = failure.message;
    const next = dueAt(state(host), now());
    if (next > now()) out.nextAttempt = new Date(next).toISOString();
    return out;
  }

  return {
    async setHosts(next) {
      hosts = [...new Set(next)];
      for (const host of [...certs.keys()]) if (!hosts.includes(host)) certs.delete(host);
      for (const host of [...failures.keys()]) if (!hosts.includes(host)) failures.delete(host);
      for (const host of hosts) {
        if (certs.has(host)) continue;
        const stored = await options.store.read(host).catch(() => undefined);
        if (stored) {
          certs.set(host, stored);
          await options.onCertificate?.(host, stored, 'loaded');
        }
      }
      schedule();
    },
    async renew(names = [], force = false) {
      const unknown = names.filter((n) => !hosts.includes(n));
      if (unknown.length > 0) {
        throw new OcmError('OCM_E_USER_UNKNOWN', `${quote(unknown[0] ?? '')} is not a user host (${hosts.length === 0 ? 'none' : hosts.join(', ')})`);
      }
      const chosen = names.length > 0 ? [...names] : [...hosts];
      await enqueue(async () => {
        for (const host of chosen) {
          if (force || failures.has(host) || dueAt({ ...(certs.has(host) ? { cert: certs.get(host) } : {}) }, now()) <= now()) await order(host);
        }
      });
      schedule();
      return chosen.map(statusOf);
    },
    status: () => hosts.map(statusOf),
    certificate: (host) => certs.get(host),
    idle: async () => {
      let seen: Promise<void>;
      do {
        seen = lane;
        await seen;
      } while (seen !== lane);
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

function acmeError(host: string, err: unknown): OcmError {
  const detail = err instanceof Error ? err.message : String(err);
  const message = describeAcmeFailure(host, detail).slice(0, 500);
  if (err instanceof OcmError) return new OcmError(err.code, message, { cause: err, hint: err.hint, details: { ...err.details, host } });
  return new OcmError('OCM_E_ACME_FAILED', message, { cause: err, details: { host } });
}
