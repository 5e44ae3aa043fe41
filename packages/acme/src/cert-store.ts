// Certificates and keys on disk: 0600, written whole (key first, then the
// certificate that names it), so a crash leaves an old pair or a new one.
// Another writer of these files (nginx's placeholders) shares a lock with the
// store's writes, so it never sees, or splits, a half-written pair.
import { mkdir, readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import { writeDurable } from '@ocm/fs';
import { accountKeyPath, hostFiles, type HostFiles } from './acme-paths.js';
import { isPlaceholder } from './placeholder.js';

export interface StoredCert {
  files: HostFiles;
  notBefore: number;
  notAfter: number;
  serial: string;
  issuer: string;
}

export interface CertStore {
  readAccountKey(): Promise<string | undefined>;
  writeAccountKey(pem: string): Promise<void>;
  read(host: string): Promise<StoredCert | undefined>;
  write(host: string, pair: { cert: string; key: string }): Promise<StoredCert>;
}

const PRIVATE = { mode: 0o600 } as const;

/** Runs a write while other writers of the same files wait (e.g. the root's nginx lock). */
export type WriteLock = <T>(fn: () => Promise<T>) => Promise<T>;

export interface CertStoreOptions {
  writeLock?: WriteLock;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The leaf (first) certificate of a PEM chain. */
export function describeCert(files: HostFiles, pem: string): StoredCert {
  const leaf = new X509Certificate(pem);
  return {
    files,
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    serial: leaf.serialNumber,
    issuer: leaf.issuer.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? leaf.issuer,
  };
}

export function createCertStore(root: string, options: CertStoreOptions = {}): CertStore {
  const locked: WriteLock = options.writeLock ?? ((fn) => fn());
  const write = async (path: string, text: string): Promise<void> => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeDurable(path, text, PRIVATE);
  };
  return {
    readAccountKey: () => readText(accountKeyPath(root)),
    writeAccountKey: (pem) => write(accountKeyPath(root), pem),
    async read(host) {
      const files = hostFiles(root, host);
      const pem = await readText(files.cert);
      // A placeholder only keeps nginx loadable: the host has no certificate yet.
      return pem === undefined || isPlaceholder(new X509Certificate(pem).subject) ? undefined : describeCert(files, pem);
    },
    async write(host, pair) {
      const files = hostFiles(root, host);
      const described = describeCert(files, pair.cert);
      await locked(async () => {
        await write(files.key, pair.key);
        await write(files.cert, pair.cert);
      });
      return described;
    },
  };
}
