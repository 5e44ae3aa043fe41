// A private copy of the trees as they were at the freeze: copied once while the
// gateway runs, then, frozen, only what changed since is copied again. Files
// are read through verified descriptors only (source-trees.ts) and copied flat,
// one numbered file each, so no tenant path is ever recreated on the host:
// nothing in the snapshot can be a link, and no path there can be too long.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { copyOpened } from './file-copy.js';
import type { SkippedEntry } from './manifest.js';
import { SourceTrees } from './source-trees.js';
import type { Identity } from './tree-fs.js';
import type { BackupSource } from './types.js';
import type { WalkResult, WalkedEntry } from './walk-tree.js';

const PARALLEL = 8;
// ctime comes from a coarse kernel clock: a file changed within this window of
// the first copy may keep the same ctime, so it is always copied again.
const RACY_MARGIN_MS = 2000;
// SQLite files are always copied again while frozen: the -shm index is written
// through mmap, which need not update ctime.
const ALWAYS_RECOPY = /\.(sqlite3?|db)(-wal|-shm|-journal)?$/i;

interface Copied {
  copy: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** The directory it was read from: a copy is kept only if the path still leads through it. */
  parent: Identity | undefined;
}

export interface Snapshot {
  dir: string;
  copied: Map<string, Copied>;
  racyAfterMs: number;
  next: number;
}

export interface RefreshResult {
  /** The entries with sizes of the copies, which are what gets archived. */
  entries: WalkedEntry[];
  /** Files that changed shape under the copy (swapped for a link or a FIFO): left out. */
  skipped: SkippedEntry[];
  files: number;
  bytes: number;
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await work(item);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));

/** Copies each file through `trees`; returns the copies made and the files skipped (with why). */
async function copyFiles(
  files: readonly WalkedEntry[],
  trees: SourceTrees,
  snapshot: Snapshot,
  dirs: ReadonlyMap<string, Identity>,
  signal: AbortSignal | undefined,
): Promise<{ done: Map<string, Copied>; skipped: SkippedEntry[] }> {
  const done = new Map<string, Copied>();
  const skipped: SkippedEntry[] = [];
  await inParallel(files, async (e) => {
    signal?.throwIfAborted();
    const opened = await trees.openFile(e);
    if ('skip' in opened) {
      skipped.push({ path: e.path, reason: opened.skip });
      return;
    }
    const copy = join(snapshot.dir, String(snapshot.next++));
    try {
      const size = await copyOpened(opened.handle, opened.stat, copy);
      const st = opened.stat;
      done.set(e.path, { copy, dev: st.dev, ino: st.ino, size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, parent: dirs.get(parentOf(e.path)) });
    } finally {
      await opened.handle.close();
    }
  });
  return { done, skipped };
}

/** First pass, unfrozen: copy every file of `walked`. Files that change meanwhile are copied again, frozen. */
export async function precopy(walked: WalkResult, sources: readonly BackupSource[], snapshotDir: string, signal?: AbortSignal): Promise<Snapshot> {
  const snapshot: Snapshot = { dir: snapshotDir, copied: new Map(), racyAfterMs: Date.now() - RACY_MARGIN_MS, next: 0 };
  await mkdir(snapshotDir, { mode: 0o700 });
  const trees = await SourceTrees.open(sources, walked.dirs);
  try {
    const { done } = await copyFiles(walked.entries.filter((e) => e.type === 'file'), trees, snapshot, walked.dirs, signal);
    snapshot.copied = done;
  } finally {
    await trees.close();
  }
  return snapshot;
}

const sameDir = (a: Identity | undefined, b: Identity | undefined): boolean => a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

function unchanged(e: WalkedEntry, before: Copied | undefined, racyAfterMs: number, dirs: ReadonlyMap<string, Identity>): before is Copied {
  return (
    before !== undefined &&
    before.dev === e.dev &&
    before.ino === e.ino &&
    before.size === e.size &&
    before.mtimeMs === e.mtimeMs &&
    before.ctimeMs === e.ctimeMs &&
    before.ctimeMs < racyAfterMs &&
    sameDir(before.parent, dirs.get(parentOf(e.path))) &&
    !ALWAYS_RECOPY.test(e.path)
  );
}

/** Second pass, frozen: bring the snapshot in line with `walked` (walked while frozen). */
export async function refreshSnapshot(walked: WalkResult, sources: readonly BackupSource[], snapshot: Snapshot, signal?: AbortSignal): Promise<RefreshResult> {
  const stale: WalkedEntry[] = [];
  const kept = new Map<string, Copied>();
  for (const e of walked.entries) {
    if (e.type !== 'file') continue;
    const before = snapshot.copied.get(e.path);
    if (unchanged(e, before, snapshot.racyAfterMs, walked.dirs)) kept.set(e.path, before);
    else stale.push(e);
  }
  // Copies that will not be archived (changed or gone) go now: scratch space is bounded by one copy.
  for (const [path, c] of snapshot.copied) if (!kept.has(path)) await rm(c.copy, { force: true });
  const trees = await SourceTrees.open(sources, walked.dirs);
  let recopied: Awaited<ReturnType<typeof copyFiles>>;
  try {
    recopied = await copyFiles(stale, trees, snapshot, walked.dirs, signal);
  } finally {
    await trees.close();
  }
  let bytes = 0;
  for (const c of recopied.done.values()) bytes += c.size;
  const entries: WalkedEntry[] = [];
  for (const e of walked.entries) {
    if (e.type !== 'file') {
      entries.push(e);
      continue;
    }
    // The copy is what gets archived: take its size, so a file that still
    // changed under an ineffective guard can never tear the tar.
    const c = kept.get(e.path) ?? recopied.done.get(e.path);
    if (c) entries.push({ ...e, size: c.size, copy: c.copy });
  }
  return { entries, skipped: recopied.skipped, files: recopied.done.size, bytes };
}
