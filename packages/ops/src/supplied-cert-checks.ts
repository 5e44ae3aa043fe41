// `ocm doctor` with settings.tls.certificate/key (a certificate the admin
// brings): its expiry, that it covers each enabled user's host, and that the
// key is its own. The files are the admin's, outside every user's tree.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { coverageVerdict, dnsNames, keyMatchVerdict, suppliedExpiryVerdict, userHost, type Manifest } from '@ocm/core';
import type { Finding } from './doctor.js';
import { finding } from './verdict-finding.js';

/** The leaf (first) certificate of the PEM file, or why not. */
async function leafOf(file: string): Promise<X509Certificate | Error> {
  try {
    return new X509Certificate(await readFile(file));
  } catch (err) {
    return err as Error;
  }
}

async function keyMatches(cert: X509Certificate, file: string): Promise<boolean | Error> {
  try {
    return cert.checkPrivateKey(createPrivateKey(await readFile(file)));
  } catch (err) {
    return err as Error;
  }
}

export async function suppliedCertChecks(manifest: Manifest, now = Date.now()): Promise<Finding[]> {
  const { certificate, key } = manifest.settings.tls;
  if (certificate === undefined || key === undefined) return [];
  const cert = await leafOf(certificate);
  if (cert instanceof Error) {
    return [{ scope: 'tls', check: 'certificate', ok: false, detail: `${certificate} cannot be read as a PEM certificate: ${cert.message}`, fix: 'settings.tls.certificate must name a PEM certificate chain, leaf first' }];
  }
  const out = [
    finding('tls', 'certificate', suppliedExpiryVerdict(certificate, Date.parse(cert.validTo), now)),
    finding('tls', 'key', keyMatchVerdict(certificate, key, await keyMatches(cert, key))),
  ];
  const names = dnsNames(cert.subjectAltName);
  for (const user of manifest.users.filter((u) => u.enabled)) out.push(finding(user.name, 'certificate', coverageVerdict(certificate, userHost(manifest, user.name), names)));
  return out;
}
