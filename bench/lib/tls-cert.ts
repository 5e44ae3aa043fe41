// A self-signed P-256 certificate for the bench hosts, as an admin would
// supply one in settings.tls: the same pair for every HTTPS side.
import { join } from 'node:path';
import { run } from './proc.js';

export interface CertFiles { certificate: string; key: string }

/** Writes cert.pem and key.pem into `dir`, for `host` and every `*.<domain>` name. */
export async function selfSignedCert(dir: string, host: string, domain: string): Promise<CertFiles> {
  const files = { certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host},DNS:*.${domain}`,
    '-keyout', files.key, '-out', files.certificate,
  ], { timeoutMs: 20_000 });
  return files;
}
