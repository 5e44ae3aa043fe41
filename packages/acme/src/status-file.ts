// The last status per host, written by the daemon after every order, so that
// `ocm tls` can show issuer, expiry and last error without asking the daemon.
import { mkdir, readFile } from 'node:fs/promises';
import { writeDurable } from '@ocm/fs';
import { acmeDir } from './acme-paths.js';
import type { HostStatus } from './cert-manager.js';

export const statusFilePath = (root: string): string => `${acmeDir(root)}/status.json`;

export interface StatusFile { time: string; hosts: HostStatus[] }

export async function writeStatusFile(root: string, hosts: HostStatus[], now = Date.now()): Promise<void> {
  await mkdir(acmeDir(root), { recursive: true, mode: 0o700 });
  const body: StatusFile = { time: new Date(now).toISOString(), hosts };
  await writeDurable(statusFilePath(root), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}

/** undefined when the daemon never wrote one (no ACME, or not started yet). */
export async function readStatusFile(root: string): Promise<StatusFile | undefined> {
  try {
    return JSON.parse(await readFile(statusFilePath(root), 'utf8')) as StatusFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
