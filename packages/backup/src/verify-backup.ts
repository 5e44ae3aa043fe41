// An archive counts as a backup only if its sidecar matches, it reads to the
// end, its manifest is last and every file matches the manifest.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { OcmError } from '@ocm/core';
import { sidecarName } from './archive-name.js';
import { isErrno, sha256File } from './durable-fs.js';
import type { BackupManifest } from './manifest.js';
import { scanArchive, type FileSink, type ScanResult } from './scan-archive.js';
import { readSidecar } from './sidecar.js';

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

function mismatch(archive: string, expected: string, actual: string): OcmError {
  return new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} does not match its checksum file (sha256 ${actual}, expected ${expected})`, {
    details: { archive, reason: 'mismatch' },
  });
}

/**
 * One read: the archive is hashed for the sidecar while gzip, tar and manifest
 * are checked. With `openFile`, file bodies are also written out as they pass
 * (extraction), so an extract costs a single read too.
 */
export async function scanVerified(archive: string, openFile?: (path: string) => Promise<FileSink>): Promise<VerifyReport> {
  await assertArchiveExists(archive);
  const expected = await readSidecar(archive);
  if (expected === undefined) {
    throw new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} has no valid checksum file ${basename(sidecarName(archive))} (an interrupted backup is never a backup)`, {
      details: { archive, reason: 'missing' },
    });
  }
  let scan: ScanResult;
  try {
    scan = await scanArchive(archive, openFile);
  } catch (error) {
    // A damaged file can fail in any way; when its checksum is off, say that.
    const { sha256 } = await sha256File(archive);
    if (sha256 !== expected) throw mismatch(archive, expected, sha256);
    throw error;
  }
  if (scan.sha256 !== expected) throw mismatch(archive, expected, scan.sha256);
  const { manifest } = scan;
  return {
    archive,
    sha256: scan.sha256,
    bytes: scan.bytes,
    user: manifest.user,
    createdAt: new Date(manifest.createdAt),
    files: manifest.totals.files,
    sourceBytes: manifest.totals.bytes,
    entries: scan.entries.length,
    manifest,
  };
}

export function verifyBackup(archive: string): Promise<VerifyReport> {
  return scanVerified(archive);
}
