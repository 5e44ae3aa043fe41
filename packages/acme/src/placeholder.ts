// nginx loads every certificate its config names at `nginx -t` and reload, so
// a user host whose certificate the CA has not issued yet gets a self-signed
// placeholder in its own files: the rendered server blocks never depend on
// what is on disk, nginx starts, and the CA's certificate replaces the pair
// (then nginx is reloaded). The placeholder is never reported or kept as a
// certificate: the store reads it as none, so it is ordered.
import { webcrypto } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as x509 from '@peculiar/x509';
import { rootLayout, type CertFiles } from '@ocm/core';
import { writeDurable } from '@ocm/fs';

/** The subject every placeholder carries; nothing a CA would issue. */
export const PLACEHOLDER_CN = 'ocm placeholder: no certificate issued yet';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export function isPlaceholder(subject: string): boolean {
  return subject.split('\n').includes(`CN=${PLACEHOLDER_CN}`);
}

/** A self-signed pair for a host (or for none: the catch-all server), valid for a year. */
export async function makePlaceholder(host: string | undefined, now = Date.now()): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${PLACEHOLDER_CN}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * 86_400_000),
    signingAlgorithm: EC,
    keys,
    extensions: host === undefined ? [] : [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

// Only where no certificate exists: a certificate without its key is left for
// nginx -t to name, never replaced by a placeholder (it may be the CA's, its
// key on the way). Callers hold the lock the certificate store writes under.
async function ensurePair(files: CertFiles, host: string | undefined): Promise<boolean> {
  if (await exists(files.cert)) return false;
  const pair = await makePlaceholder(host);
  await mkdir(dirname(files.cert), { recursive: true, mode: 0o700 });
  // Key first, then the certificate that names it: a crash leaves no certificate without its key.
  await writeDurable(files.key, pair.key, { mode: 0o600 });
  await writeDurable(files.cert, pair.cert, { mode: 0o600 });
  return true;
}

/**
 * Every file the rendered nginx confs name exists: the catch-all pair and one
 * per host. Returns the hosts given placeholders. Run it under the lock the
 * certificate store writes under (the root's nginx lock).
 */
export async function ensurePlaceholders(root: string, hosts: readonly string[]): Promise<string[]> {
  const layout = rootLayout(root);
  await ensurePair(layout.acmePlaceholder, undefined);
  const made: string[] = [];
  for (const host of hosts) if (await ensurePair(layout.acmeHost(host), host)) made.push(host);
  return made;
}
