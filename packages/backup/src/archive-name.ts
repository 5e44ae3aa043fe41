// One place that knows how archives, sidecars and temp files are named, so
// listing, cleanup and creation can never disagree about what is a backup.

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
// `-manual` marks a backup the admin took by hand; names without it (all names
// before the marker existed) are scheduled ones.
const ARCHIVE = /^(.+)-(\d{8}T\d{6}Z)(-manual)?\.tar\.gz$/;

/** scheduled: the nightly run, pruned by keepDaily/keepWeekly; manual: taken by hand, pruned by keepManual. */
export type ArchiveKind = 'scheduled' | 'manual';

export const SIDECAR_SUFFIX = '.sha256';
/** `<archive>.verify.json`: the last verification of the archive beside it. */
export const VERIFY_SUFFIX = '.verify.json';
export const MANIFEST_NAME = '.ocm-backup.json';
export const LOCK_NAME = '.ocm-backup.lock';

/** `2026-01-02T03:04:05.678Z` -> `20260102T030405Z` (UTC, second precision). */
export function formatStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function parseStamp(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject 20261345T... that Date.UTC would silently roll over.
  return formatStamp(date) === stamp ? date : undefined;
}

export function archiveName(user: string, date: Date, kind: ArchiveKind = 'scheduled'): string {
  return `${user}-${formatStamp(date)}${kind === 'manual' ? '-manual' : ''}.tar.gz`;
}

export function sidecarName(archive: string): string {
  return `${archive}${SIDECAR_SUFFIX}`;
}

export function verifyStateName(archive: string): string {
  return `${archive}${VERIFY_SUFFIX}`;
}

/** Parses `<user>-<stamp>[-manual].tar.gz`; anything else (temp files, sidecars) is not an archive. */
export function parseArchiveName(file: string): { user: string; time: Date; kind: ArchiveKind } | undefined {
  const m = ARCHIVE.exec(file);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const time = parseStamp(m[2]);
  return time ? { user: m[1], time, kind: m[3] === undefined ? 'scheduled' : 'manual' } : undefined;
}

/** Temp names start with `.tmp-<user>-` and carry the writer's pid, so cleanup can tell stale from live. */
export function tempPrefix(user: string): string {
  return `.tmp-${user}-`;
}

export function tempName(user: string, date: Date, suffix: string): string {
  return `${tempPrefix(user)}${formatStamp(date)}-${process.pid}${suffix}`;
}
