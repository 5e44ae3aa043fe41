// `ocm doctor`'s verdicts on a certificate the admin brings
// (settings.tls.certificate/key, e.g. a wildcard): its expiry, whether its
// names cover each user host the way a browser matches them, and whether the
// key is the certificate's. ocm never renews it, so every fix is the admin's.
import { EXPIRY_WARN_DAYS, type Verdict } from './tls-verdicts.js';

const DAY = 86_400_000;

/**
 * Pure: whether a DNS name from a certificate's subjectAltName matches a
 * host as browsers match it: case-insensitive, a wildcard only as the whole
 * leftmost label and standing for exactly one label.
 */
export function nameCovers(name: string, host: string): boolean {
  const [n, h] = [name.toLowerCase().replace(/\.$/, ''), host.toLowerCase().replace(/\.$/, '')];
  if (!n.startsWith('*.')) return n === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === n.slice(2) && n.slice(2).includes('.');
}

/** Pure: the DNS names of an X.509 subjectAltName as node prints it (`DNS:a, DNS:*.b, IP Address:...`). */
export function dnsNames(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
}

const replace = (file: string): string => `put a renewed certificate at ${file} (settings.tls.certificate), or remove settings.tls.certificate/key to have ACME issue them`;

/** The admin's certificate by its expiry (ms) at `now`. */
export function suppliedExpiryVerdict(file: string, notAfter: number, now: number): Verdict {
  const days = Math.floor((notAfter - now) / DAY);
  const when = new Date(notAfter).toISOString();
  if (notAfter <= now) return { level: 'fail', detail: `${file} expired ${when}`, fix: replace(file) };
  if (days < EXPIRY_WARN_DAYS) return { level: 'warn', detail: `${file} expires ${when} (${days} days); ocm does not renew it`, fix: replace(file) };
  return { level: 'ok', detail: `${file} expires ${when} (${days} days)` };
}

/** Whether the admin's certificate names a user's host. */
export function coverageVerdict(file: string, host: string, names: readonly string[]): Verdict {
  const match = names.find((n) => nameCovers(n, host));
  if (match !== undefined) return { level: 'ok', detail: `${file} covers ${host} (${match})` };
  return {
    level: 'fail',
    detail: `${file} does not cover ${host}: browsers refuse it (it names ${names.length === 0 ? 'no DNS name' : names.join(', ')})`,
    fix: `use a certificate that names ${host} or *.${host.slice(host.indexOf('.') + 1)}`,
  };
}

/** Whether the key file holds the certificate's private key (an Error: it could not be read or parsed). */
export function keyMatchVerdict(certFile: string, keyFile: string, matches: boolean | Error): Verdict {
  if (matches instanceof Error) return { level: 'fail', detail: `${keyFile} cannot be used: ${matches.message}`, fix: `settings.tls.key must name the PEM private key of ${certFile}` };
  if (!matches) return { level: 'fail', detail: `${keyFile} is not the key of ${certFile}: HTTPS cannot start`, fix: `settings.tls.key must name the private key ${certFile} was issued for` };
  return { level: 'ok', detail: `${keyFile} is the key of ${certFile}` };
}
