// Each user gets a fixed /28 from the pool, indexed by their port offset, so
// the bridge gateway address (what the gateway sees the proxy as) is known
// before Docker creates anything, and compose and ocm agree on it.
import { OcmError } from './errors.js';

export const SUBNET_SIZE = 16;

export interface Subnet {
  cidr: string;
  gateway: string;
  /** The subnet's last usable address: where a swarm user's relay sits (tasks take the low ones). */
  last: string;
}

export function subnetFor(pool: string, index: number): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool);
  if (match === null) throw new OcmError('OCM_E_MANIFEST_INVALID', `settings.network.pool: ${JSON.stringify(pool)} must be a /16 such as 10.231.0.0/16`);
  const maxIndex = 65536 / SUBNET_SIZE;
  if (!Number.isInteger(index) || index < 0 || index >= maxIndex) {
    throw new OcmError('OCM_E_PORTS_EXHAUSTED', `network index ${index} is outside the ${maxIndex} subnets of ${pool}`);
  }
  const offset = index * SUBNET_SIZE;
  const third = Math.floor(offset / 256);
  const fourth = offset % 256;
  const prefix = `${match[1]}.${match[2]}.${third}`;
  return { cidr: `${prefix}.${fourth}/28`, gateway: `${prefix}.${fourth + 1}`, last: `${prefix}.${fourth + SUBNET_SIZE - 2}` };
}

/** An IPv4 CIDR as [first, last] addresses (unsigned 32-bit); undefined for anything else (IPv6, junk). */
export function ipv4Range(cidr: string): [number, number] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const first = Math.floor(address / size) * size;
  return [first, first + size - 1];
}

/** Do two IPv4 CIDRs share any address? False when either is not IPv4. */
export function cidrsOverlap(a: string, b: string): boolean {
  const ra = ipv4Range(a);
  const rb = ipv4Range(b);
  if (ra === undefined || rb === undefined) return false;
  return ra[0] <= rb[1] && rb[0] <= ra[1];
}
