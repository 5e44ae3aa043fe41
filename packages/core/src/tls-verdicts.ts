// `ocm doctor`'s HTTPS verdicts as pure functions: a certificate's expiry, a
// user host's DNS answer, a listener's local reachability. DNS is only ever a
// warning: a host offline, or behind a NAT or a CDN, can still be right.
export type Level = 'ok' | 'warn' | 'fail';

export interface Verdict { level: Level; detail: string; fix?: string }

const DAY = 86_400_000;
/** Below this many days left a certificate is worth a warning (renewal starts at 30). */
export const EXPIRY_WARN_DAYS = 14;

/** A host's certificate from its expiry (ms) and the last order's error, at `now`. */
export function expiryVerdict(host: string, notAfter: number | undefined, lastError: string | undefined, now: number): Verdict {
  const renew = `ocm tls renew (the daemon must run; ocm tls shows the last error)`;
  if (notAfter === undefined) {
    return lastError === undefined
      ? { level: 'warn', detail: `${host} has no certificate yet`, fix: 'start the daemon (ocm daemon); it orders one within seconds' }
      : { level: 'fail', detail: `${host} has no certificate: ${lastError}`, fix: renew };
  }
  const days = Math.floor((notAfter - now) / DAY);
  const when = new Date(notAfter).toISOString();
  const error = lastError === undefined ? '' : `; last order failed: ${lastError}`;
  if (notAfter <= now) return { level: 'fail', detail: `${host}'s certificate expired ${when}${error}`, fix: renew };
  if (days < EXPIRY_WARN_DAYS || lastError !== undefined) return { level: 'warn', detail: `${host}'s certificate expires ${when} (${days} days)${error}`, fix: renew };
  return { level: 'ok', detail: `${host}'s certificate expires ${when} (${days} days)` };
}

/** A user host's DNS answer against this host's own addresses; an error (offline, NXDOMAIN) is a warning, never a failure. */
export function dnsVerdict(host: string, answer: readonly string[] | Error, own: readonly string[]): Verdict {
  const fix = `point ${host} (or *.<domain>) at this server's public address; the CA connects to it on port 80`;
  if (answer instanceof Error) return { level: 'warn', detail: `${host} does not resolve here (${answer.message})`, fix };
  const mine = answer.filter((a) => own.includes(a));
  if (mine.length > 0) return { level: 'ok', detail: `${host} resolves to ${mine.join(', ')} (this host)` };
  return { level: 'warn', detail: `${host} resolves to ${answer.join(', ') || 'nothing'}, none of this host's addresses (fine behind a NAT or forwarding)`, fix };
}

/** A listener ocm should have, from a local connection attempt. */
export function portVerdict(setting: string, address: string, error: string | undefined): Verdict {
  if (error === undefined) return { level: 'ok', detail: `${setting} ${address} accepts connections` };
  return { level: 'fail', detail: `${setting} ${address} refuses a local connection (${error})`, fix: 'start the daemon (embedded proxy) or nginx, or fix the address in ocm.yaml' };
}
