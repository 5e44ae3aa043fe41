// Listen addresses as the daemon uses them (parsing lives in core).
import type { ListenAddress } from '@ocm/core';

export { parseListen, type ListenAddress } from '@ocm/core';

/** True when only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The URL a browser on this machine would use. */
export function listenUrl(address: ListenAddress): string {
  const host = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
