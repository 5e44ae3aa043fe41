// One user's backup: freeze, read the trees, thaw, and stream one gzip tar
// (manifest last) to a temp file that only becomes a backup once it is durable.
import { constants } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { archiveName, sidecarName, tempName, type ArchiveKind } from './archive-name.js';
import { acquireLock, cleanStale } from './backup-dir.js';
import { FrozenWindow } from './consistency-guard.js';
import { fsyncDir } from './durable-fs.js';
import { MANIFEST_FORMAT, totalsOf, type BackupManifest, type SkippedEntry } from './manifest.js';
import { writeSidecar } from './sidecar.js';
import { precopy, refreshSnapshot, type Snapshot } from './snapshot-copy.js';
import { SourceTrees } from './source-trees.js';
import type { OpenBody } from './tar-writer.js';
import type { BackupSource, Clock, ConsistencyGuard } from './types.js';
import { walkSources, type WalkLimits, type WalkedEntry, type WalkResult } from './walk-tree.js';
import { fsyncFile, writeArchive } from './write-archive.js';

/**
 * snapshot: copy the trees unfrozen, then freeze and copy again only what changed,
 * thaw and compress the copy (short freeze; needs scratch space for one copy).
 * stream: read and compress the live trees while frozen (no scratch space, long freeze).
 * Without a strategy: stream when nothing writes the trees (the container is
 * not running), which saves copying them, and snapshot otherwise. A streamed
 * archive is kept only if the container was still not started once the last
 * byte was read; if it was, the backup is made again as a snapshot.
 */
export type BackupStrategy = 'snapshot' | 'stream';

export interface BackupProgress {
  phase: 'precopy' | 'freeze' | 'archive' | 'done';
  bytesRead: number;
  totalBytes: number;
}

export interface CreateBackupOptions {
  user: string;
  sources: readonly BackupSource[];
  destDir: string;
  /** Named `-manual` when taken by hand (default scheduled): retention treats the two apart. */
  kind?: ArchiveKind;
  clock: Clock;
  consistency: ConsistencyGuard;
  onProgress?: (progress: BackupProgress) => void;
  strategy?: BackupStrategy;
  gzipLevel?: number;
  /** Bounds on the trees, checked before anything is frozen (none when absent). */
  limits?: { maxFiles: number; maxBytes: number };
  /** The whole backup is given up after this long: the user is thawed, nothing is kept. */
  timeoutMs?: number;
}

/** Defaults that fit a family's gateway; settings.backup overrides them. */
export const DEFAULT_LIMITS = { maxFiles: 250_000, maxBytes: 8 * 1024 ** 3 };

export interface BackupResult {
  user: string;
  archive: string;
  /** Size of the archive on disk. */
  bytes: number;
  files: number;
  sourceBytes: number;
  sha256: string;
  durationMs: number;
  frozenMs: number;
  /** Files and bytes copied while frozen (snapshot strategy). */
  frozenCopy: { files: number; bytes: number };
  strategy: BackupStrategy;
  skipped: SkippedEntry[];
  createdAt: Date;
}

/** The container was started while its live trees were read: that read cannot be trusted. */
class StartedMeanwhile extends Error {}

function timedOut(opts: CreateBackupOptions): OcmError {
  return new OcmError('OCM_E_BACKUP_TIMEOUT', `the backup of ${JSON.stringify(opts.user)} took longer than ${Math.round((opts.timeoutMs ?? 0) / 60_000)} min (settings.backup.timeoutMinutes); it was given up`, {
    details: { user: opts.user, timeoutMs: opts.timeoutMs },
  });
}

export async function createBackup(opts: CreateBackupOptions): Promise<BackupResult> {
  const deadline = new AbortController();
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => deadline.abort(timedOut(opts)), opts.timeoutMs);
  try {
    if (opts.strategy !== undefined) return await backupWith(opts, opts.strategy, deadline.signal);
    const stillIdle = await opts.consistency.whileIdle?.();
    if (stillIdle === undefined) return await backupWith(opts, 'snapshot', deadline.signal);
    try {
      return await backupWith(opts, 'stream', deadline.signal, stillIdle);
    } catch (error) {
      if (!(error instanceof StartedMeanwhile)) throw error;
      return await backupWith(opts, 'snapshot', deadline.signal);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the private copies the snapshot made (ours: no tenant can reach them). */
const openCopy: OpenBody = async (e) => {
  const handle = await open(e.copy as string, constants.O_RDONLY | constants.O_NOFOLLOW);
  return { handle, stat: await handle.stat() };
};

async function backupWith(opts: CreateBackupOptions, strategy: BackupStrategy, signal: AbortSignal, stillIdle?: () => Promise<boolean>): Promise<BackupResult> {
  const t0 = performance.now();
  await mkdir(opts.destDir, { recursive: true, mode: 0o700 });
  const release = await acquireLock(opts.destDir, opts.user);
  const window = new FrozenWindow(opts.consistency);
  const createdAt = opts.clock.now();
  const archive = join(opts.destDir, archiveName(opts.user, createdAt, opts.kind));
  const partial = join(opts.destDir, tempName(opts.user, createdAt, '.tar.gz.partial'));
  const snapshotDir = join(opts.destDir, tempName(opts.user, createdAt, '.snapshot'));
  const limits: WalkLimits | undefined = opts.limits && { user: opts.user, ...opts.limits };
  const walk = async (): Promise<WalkResult> => {
    signal.throwIfAborted();
    const walked = await walkSources(opts.sources, limits, signal);
    signal.throwIfAborted();
    return walked;
  };
  // A timeout thaws at once, even if the work it interrupts is still unwinding.
  const onAbort = (): void => void window.leave().catch(() => undefined);
  signal.addEventListener('abort', onAbort);
  let sidecarOnly = false;
  let trees: SourceTrees | undefined;
  try {
    await cleanStale(opts.destDir, opts.user);
    if (await stat(archive).catch(() => undefined)) {
      throw new OcmError('OCM_E_BACKUP_FAILED', `${archive} already exists`, { hint: 'a backup was made this very second; retry in a second' });
    }
    // The limits are checked by this first walk, before anything is frozen or copied.
    const first = await walk();
    let snapshot: Snapshot | undefined;
    if (strategy === 'snapshot') {
      opts.onProgress?.({ phase: 'precopy', bytesRead: 0, totalBytes: 0 });
      snapshot = await precopy(first, opts.sources, snapshotDir, signal);
    }
    opts.onProgress?.({ phase: 'freeze', bytesRead: 0, totalBytes: 0 });
    await window.enter();
    // Walked again once frozen, unless the guard says it froze nothing (the
    // container is not running): then the first walk still holds.
    const walked = snapshot !== undefined || opts.consistency.acted !== false ? await walk() : first;
    let entries: WalkedEntry[] = walked.entries;
    const skipped: SkippedEntry[] = [...walked.skipped];
    const frozenCopy = { files: 0, bytes: 0 };
    let openBody: OpenBody;
    if (snapshot) {
      const refreshed = await refreshSnapshot(walked, opts.sources, snapshot, signal);
      await window.leave();
      entries = refreshed.entries;
      skipped.push(...refreshed.skipped);
      Object.assign(frozenCopy, { files: refreshed.files, bytes: refreshed.bytes });
      openBody = openCopy;
    } else {
      const open = await SourceTrees.open(opts.sources, walked.dirs);
      trees = open;
      openBody = (e) => open.openFile(e);
    }
    const manifestOf = (records: BackupManifest['entries'], packSkipped: SkippedEntry[]): BackupManifest => ({
      format: MANIFEST_FORMAT,
      kind: 'ocm-backup',
      user: opts.user,
      createdAt: createdAt.toISOString(),
      consistency: opts.consistency.mode,
      sources: opts.sources.map((s) => s.prefix),
      entries: records,
      skipped: [...skipped, ...packSkipped],
      totals: totalsOf(records),
    });
    const written = await writeArchive({
      partial,
      entries,
      open: openBody,
      manifestOf,
      signal,
      afterLastRead: async () => {
        await trees?.close();
        trees = undefined;
        await window.leave();
        if (stillIdle !== undefined && !(await stillIdle())) throw new StartedMeanwhile('the container was started during the backup');
      },
      ...(opts.gzipLevel === undefined ? {} : { gzipLevel: opts.gzipLevel }),
      onProgress: (p) => opts.onProgress?.({ phase: 'archive', ...p }),
    });
    await rm(snapshotDir, { recursive: true, force: true });
    await chmod(partial, 0o600);
    await fsyncFile(partial);
    // Sidecar first: a kill between the two leaves a sidecar without an
    // archive (never listed, removed by the next run), never an archive that
    // is complete on disk but not listed as a backup.
    sidecarOnly = true;
    await writeSidecar(archive, written.sha256);
    await rename(partial, archive);
    sidecarOnly = false;
    await fsyncDir(opts.destDir);
    const totals = written.manifest.totals;
    opts.onProgress?.({ phase: 'done', bytesRead: totals.bytes, totalBytes: totals.bytes });
    return {
      user: opts.user,
      archive,
      bytes: written.bytes,
      files: totals.files,
      sourceBytes: totals.bytes,
      sha256: written.sha256,
      durationMs: Math.round(performance.now() - t0),
      frozenMs: window.frozenMs,
      frozenCopy,
      strategy,
      skipped: written.manifest.skipped,
      createdAt,
    };
  } catch (caught) {
    // Thaw first: the container must not stay frozen while we clean up.
    await window.leave().catch(() => undefined);
    await trees?.close();
    const error: unknown = signal.aborted ? signal.reason : caught;
    if (sidecarOnly) await rm(sidecarName(archive), { force: true });
    await rm(partial, { force: true });
    await rm(snapshotDir, { recursive: true, force: true });
    if (isOcmError(error) || error instanceof StartedMeanwhile) throw error;
    throw new OcmError('OCM_E_BACKUP_FAILED', `backup of ${JSON.stringify(opts.user)} failed: ${(error as Error).message}`, {
      cause: error,
      details: { user: opts.user },
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    await window.leave().catch(() => undefined);
    await release();
  }
}
