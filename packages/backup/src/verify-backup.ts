// An archive counts as a backup only if its sidecar matches, it reads to the
// end, its manifest is last and every file matches the manifest.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { OcmError } from '@ocm/core';
import { sidecarName } from './archive-name.js';
import { isErrno } from './durable-fs.js';
import type { BackupManifest } from './manifest.js';
import { scanArchive } from './scan-archive.js';
import { checkSidecar } from './sidecar.js';

export interface VerifyReport {
  archive: string;
  sha256: string;
  /** Archive size on disk. */
  bytes: number;
  user: string;
  createdAt: Date;
  files: number;
  sourceBytes: number;
  entries: number;
  manifest: BackupManifest;
}

export async function assertArchiveExists(archive: string): Promise<void> {
  try {
    if ((await stat(archive)).isFile()) return;
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  throw new OcmError('OCM_E_BACKUP_MISSING', `no backup archive at ${JSON.stringify(archive)}`, { details: { archive } });
}

/** Checks the sidecar first (one cheap read), then reads the archive through. */
export async function verifyBackup(archive: string): Promise<VerifyReport> {
  await assertArchiveExists(archive);
  const sidecar = await checkSidecar(archive);
  if (!sidecar.ok) {
    const why =
      sidecar.reason === 'missing'
        ? `has no valid checksum file ${basename(sidecarName(archive))} (an interrupted backup is never a backup)`
        : `does not match its checksum file (sha256 ${sidecar.actual}, expected ${sidecar.expected})`;
    throw new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} ${why}`, { details: { archive, reason: sidecar.reason } });
  }
  const { manifest, entries } = await scanArchive(archive);
  return {
    archive,
    sha256: sidecar.sha256,
    bytes: sidecar.bytes,
    user: manifest.user,
    createdAt: new Date(manifest.createdAt),
    files: manifest.totals.files,
    sourceBytes: manifest.totals.bytes,
    entries: entries.length,
    manifest,
  };
}
