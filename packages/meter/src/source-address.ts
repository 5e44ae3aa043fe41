// A user's key is honoured only from the user's own network.
import { ipv4Range } from '@ocm/core';

export function addressInCidr(address: string | undefined, cidr: string): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  const range = ipv4Range(`${v4}/32`);
  const net = ipv4Range(cidr);
  return range !== undefined && net !== undefined && range[0] >= net[0] && range[0] <= net[1];
}
