// When a host's certificate is due: pure, so every rule is a unit test.
const DAY = 86_400_000;

export interface CertDates { notBefore: number; notAfter: number }

export interface Failure {
  attempts: number;
  /** ms since the epoch of the last failed attempt. */
  at: number;
  message: string;
}

export const RETRY_MIN_MS = 60_000;
export const RETRY_MAX_MS = 6 * 3600_000;

/** Renew 30 days before expiry, or with a third of the lifetime left for short-lived certificates. */
export function renewAt(cert: CertDates): number {
  const lifetime = cert.notAfter - cert.notBefore;
  return cert.notAfter - Math.min(30 * DAY, lifetime / 3);
}

/** Doubling from one minute to six hours after each failure in a row. */
export function retryAt(failure: Failure): number {
  return failure.at + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failure.attempts - 1));
}

export interface HostState { cert?: CertDates; failure?: Failure }

/** The moment a host next needs an order: now when it has no certificate, else its renewal time, never before its retry time. */
export function dueAt(state: HostState, now: number): number {
  const wanted = state.cert === undefined ? now : renewAt(state.cert);
  return state.failure === undefined ? wanted : Math.max(wanted, retryAt(state.failure));
}

export interface IssuePlan {
  /** Hosts to order now, in the order given. */
  due: string[];
  /** The earliest moment another host falls due (undefined: none). */
  nextAt: number | undefined;
}

/** Which of the users' hosts need an order now, and when to look again. Only hosts named here are ever ordered. */
export function planIssuance(hosts: readonly string[], states: ReadonlyMap<string, HostState>, now: number): IssuePlan {
  const due: string[] = [];
  let nextAt: number | undefined;
  for (const host of hosts) {
    const at = dueAt(states.get(host) ?? {}, now);
    if (at <= now) due.push(host);
    else nextAt = nextAt === undefined ? at : Math.min(nextAt, at);
  }
  return { due, nextAt };
}
