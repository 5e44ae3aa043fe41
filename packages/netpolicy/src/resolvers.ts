// The DNS servers Docker's embedded resolver (127.0.0.11 in each container)
// forwards to: the host's own, taken from resolv.conf. Docker sends those
// queries from the container's network namespace, so a resolver on a
// private address must be allowed on port 53 or names stop resolving.
import { readFile } from 'node:fs/promises';

const SYSTEMD_RESOLV = '/run/systemd/resolve/resolv.conf';

export function nameserversIn(text: string): string[] {
  return [...text.matchAll(/^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1] as string);
}

/** IPv4 resolvers outside loopback (Docker queries loopback ones from the host itself). */
export async function hostResolvers(path = '/etc/resolv.conf'): Promise<string[]> {
  const read = (p: string): Promise<string> => readFile(p, 'utf8').catch(() => '');
  let servers = nameserversIn(await read(path));
  // Like Docker: with systemd-resolved's stub, the real upstreams are in its own file.
  if (servers.some((s) => s.startsWith('127.'))) servers = [...servers, ...nameserversIn(await read(SYSTEMD_RESOLV))];
  return [...new Set(servers.filter((s) => !s.startsWith('127.')))];
}
