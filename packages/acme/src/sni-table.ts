// host -> TLS context for the HTTPS listener's SNI callback. Replacing an
// entry is the hot swap: new handshakes get the new certificate, open
// connections keep the one they started with.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { HostFiles } from './acme-paths.js';

export interface SniTable {
  /** Reads the pair from disk and serves it for host from the next handshake on. */
  load(host: string, files: HostFiles): Promise<void>;
  delete(host: string): void;
  /** Only exact hosts loaded here: any other server name gets no certificate. */
  lookup(servername: string): SecureContext | undefined;
}

export function createSniTable(): SniTable {
  const contexts = new Map<string, SecureContext>();
  return {
    async load(host, files) {
      const [cert, key] = await Promise.all([readFile(files.cert), readFile(files.key)]);
      contexts.set(host, createSecureContext({ cert, key }));
    },
    delete: (host) => void contexts.delete(host),
    lookup: (servername) => contexts.get(servername.toLowerCase()),
  };
}
