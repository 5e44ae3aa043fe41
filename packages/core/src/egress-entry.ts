// Allow-list entries of the network policy: an IPv4 address or CIDR with an
// optional port ("192.168.1.20:8123", "10.0.0.0/24"). Only IPv4, because user
// networks have no IPv6 (Docker turns it off inside their containers).
import { OcmError, quote } from './errors.js';
import { ipv4Range } from './network.js';

export interface EgressEntry {
  /** Canonical CIDR, host bits cleared, "/32" for one address. */
  cidr: string;
  /** TCP and UDP port, or undefined for every port. */
  port?: number;
}

const ENTRY = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?::(\d{1,5}))?$/;

const formatIpv4 = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Why an entry is not usable, or undefined when it is. */
export function egressEntryProblem(text: string): string | undefined {
  const match = ENTRY.exec(text);
  if (match === null) return 'is not an IPv4 address or CIDR with an optional port (use 192.168.1.20:8123 or 10.0.0.0/24)';
  if (ipv4Range(`${match[1]}/${match[2] ?? '32'}`) === undefined) return 'is not an IPv4 address or CIDR (each part 0-255, prefix 0-32)';
  if (match[3] !== undefined) {
    const port = Number(match[3]);
    if (port < 1 || port > 65535) return 'has a port outside 1-65535';
  }
  return undefined;
}

/** Parse an entry; throws OCM_E_EGRESS_INVALID naming the bad value. */
export function parseEgressEntry(text: string): EgressEntry {
  const problem = egressEntryProblem(text);
  if (problem !== undefined) {
    throw new OcmError('OCM_E_EGRESS_INVALID', `allow entry ${quote(text)} ${problem}`);
  }
  const match = ENTRY.exec(text) as RegExpExecArray;
  const bits = match[2] ?? '32';
  const [first] = ipv4Range(`${match[1]}/${bits}`) as [number, number];
  return { cidr: `${formatIpv4(first)}/${bits}`, ...(match[3] === undefined ? {} : { port: Number(match[3]) }) };
}

/** The canonical text of an entry: what `--disallow` compares and status shows. */
export function formatEgressEntry(entry: EgressEntry): string {
  const address = entry.cidr.endsWith('/32') ? entry.cidr.slice(0, -3) : entry.cidr;
  return entry.port === undefined ? address : `${address}:${entry.port}`;
}

/** Same entry, however it was written ("10.0.0.5/24" and "10.0.0.0/24"). */
export function sameEgressEntry(a: string, b: string): boolean {
  return formatEgressEntry(parseEgressEntry(a)) === formatEgressEntry(parseEgressEntry(b));
}
