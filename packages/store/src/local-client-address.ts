// Which of this host's own addresses stands for a browser on this host. The
// gateway refuses a forwarded client address that is loopback (or missing),
// so both proxies forward a local browser as this address instead: the one a
// remote machine would see the host by (the default route's), else docker0's.
import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface InterfaceAddresses {
  [name: string]: Array<Pick<NetworkInterfaceInfo, 'address' | 'family' | 'internal'>> | undefined;
}

const ipv4 = (list: InterfaceAddresses[string]): string | undefined =>
  list?.find((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.'))?.address;

/** Pure: the default route's interface address, else docker0's, else any host address not on a Docker bridge. */
export function chooseLocalClientAddress(interfaces: InterfaceAddresses, defaultRouteInterface: string | undefined): string | undefined {
  if (defaultRouteInterface !== undefined) {
    const viaDefault = ipv4(interfaces[defaultRouteInterface]);
    if (viaDefault !== undefined) return viaDefault;
  }
  const docker0 = ipv4(interfaces.docker0);
  if (docker0 !== undefined) return docker0;
  for (const [name, list] of Object.entries(interfaces).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name.startsWith('br-') || name.startsWith('veth')) continue;
    const address = ipv4(list);
    if (address !== undefined) return address;
  }
  return undefined;
}

/** The interface of the IPv4 default route, from /proc/net/route (Linux). */
export function defaultRouteInterface(routeTable?: string): string | undefined {
  let text = routeTable;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface !== undefined && destination === '00000000' && mask === '00000000') return iface;
  }
  return undefined;
}

let detected: { value: string | undefined } | undefined;

/** This host's address for local browsers; detected once per process. */
export function detectLocalClientAddress(): string | undefined {
  detected ??= { value: chooseLocalClientAddress(networkInterfaces(), defaultRouteInterface()) };
  return detected.value;
}
