// `.ocm-backup.json`, the last tar entry: what the archive must contain, with
// a sha256 per file, so verification needs nothing but the archive itself.
import { OcmError } from '@ocm/core';
import type { ConsistencyMode } from './types.js';

export const MANIFEST_FORMAT = 1;

export type EntryType = 'file' | 'directory' | 'symlink' | 'link';

export interface ManifestEntry {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** ISO time, millisecond precision (the tar header keeps whole seconds only). */
  mtime: string;
  sha256?: string;
  /** Symlink target, or the hard link's target path inside the archive. */
  linkname?: string;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ManifestTotals {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  kind: 'ocm-backup';
  user: string;
  createdAt: string;
  consistency: ConsistencyMode;
  sources: string[];
  entries: ManifestEntry[];
  skipped: SkippedEntry[];
  totals: ManifestTotals;
}

export function totalsOf(entries: readonly ManifestEntry[]): ManifestTotals {
  const totals: ManifestTotals = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  for (const e of entries) {
    if (e.type === 'file' || e.type === 'link') totals.files += 1;
    if (e.type === 'directory') totals.directories += 1;
    if (e.type === 'symlink') totals.symlinks += 1;
    totals.bytes += e.type === 'file' ? e.size : 0;
  }
  return totals;
}

function corrupt(archive: string, why: string): OcmError {
  return new OcmError('OCM_E_BACKUP_CORRUPT', `${archive}: the manifest ${why}`, { details: { archive } });
}

const TYPES = new Set<string>(['file', 'directory', 'symlink', 'link']);

function isEntry(value: unknown): value is ManifestEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.path === 'string' &&
    typeof e.type === 'string' &&
    TYPES.has(e.type) &&
    Number.isSafeInteger(e.size) &&
    Number.isSafeInteger(e.mode) &&
    Number.isSafeInteger(e.uid) &&
    Number.isSafeInteger(e.gid) &&
    typeof e.mtime === 'string' &&
    !Number.isNaN(Date.parse(e.mtime)) &&
    (e.sha256 === undefined || (typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256))) &&
    (e.linkname === undefined || typeof e.linkname === 'string') &&
    (e.type !== 'file' || typeof e.sha256 === 'string') &&
    (e.type !== 'symlink' && e.type !== 'link' ? true : typeof e.linkname === 'string')
  );
}

/** Parses and shape-checks the manifest; anything unexpected means the archive is not ours or damaged. */
export function parseManifest(archive: string, text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt(archive, 'is not valid JSON');
  }
  const m = value as Partial<BackupManifest> | null;
  if (typeof m !== 'object' || m === null || m.kind !== 'ocm-backup') throw corrupt(archive, 'is not an ocm backup manifest');
  if (m.format !== MANIFEST_FORMAT) throw corrupt(archive, `has format ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT}`);
  if (typeof m.user !== 'string' || typeof m.createdAt !== 'string') throw corrupt(archive, 'lacks user or createdAt');
  if (!Array.isArray(m.entries) || !m.entries.every(isEntry)) throw corrupt(archive, 'has a malformed entry list');
  if (!Array.isArray(m.skipped) || !Array.isArray(m.sources)) throw corrupt(archive, 'lacks sources or skipped');
  const totals = totalsOf(m.entries);
  const t = m.totals;
  if (!t || t.files !== totals.files || t.bytes !== totals.bytes || t.directories !== totals.directories || t.symlinks !== totals.symlinks) {
    throw corrupt(archive, 'totals do not add up');
  }
  return m as BackupManifest;
}
