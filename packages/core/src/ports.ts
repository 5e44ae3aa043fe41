// A user's port is chosen once, stored in the manifest and never changed or
// handed to anyone else while that user exists.
import { OcmError } from './errors.js';
import type { Manifest } from './manifest-schema.js';
import { servesHttps } from './plan.js';

/** The port of a listen address ("127.0.0.1:8080", ":8080", "[::1]:8080"). */
export const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(':') + 1));

/** Ports ocm itself listens on, with the setting that names each: never a user's. */
export function ownPorts(manifest: Manifest): Map<number, string> {
  const { proxy, admin } = manifest.settings;
  const own = new Map<number, string>();
  if (proxy.mode === 'embedded') {
    own.set(portOf(proxy.listen), 'settings.proxy.listen');
    if (proxy.listenTls !== undefined) own.set(portOf(proxy.listenTls), 'settings.proxy.listenTls');
  } else {
    own.set(proxy.nginx.httpPort, 'settings.proxy.nginx.httpPort');
    if (servesHttps(manifest.settings)) own.set(proxy.nginx.httpsPort, 'settings.proxy.nginx.httpsPort');
  }
  own.set(portOf(admin.listen), 'settings.admin.listen');
  return own;
}

export function allocatePort(manifest: Manifest): number {
  const used = new Set([...manifest.users.map((u) => u.port), ...ownPorts(manifest).keys()]);
  const { base, max } = manifest.settings.ports;
  for (let port = base; port <= max; port++) {
    if (!used.has(port)) return port;
  }
  throw new OcmError('OCM_E_PORTS_EXHAUSTED', `all ports ${base}-${max} are taken by ${manifest.users.length} users`);
}
