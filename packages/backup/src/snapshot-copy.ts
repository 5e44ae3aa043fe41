// A private copy of the trees as they were at the freeze: copied once while the
// gateway runs, then, frozen, only what changed since is copied again.
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from './durable-fs.js';
import type { WalkedEntry } from './walk-tree.js';

const PARALLEL = 8;
// ctime comes from a coarse kernel clock: a file changed within this window of
// the first copy may keep the same ctime, so it is always copied again.
const RACY_MARGIN_MS = 2000;
// SQLite files are always copied again while frozen: the -shm index is written
// through mmap, which need not update ctime.
const ALWAYS_RECOPY = /\.(sqlite3?|db)(-wal|-shm|-journal)?$/i;

interface Copied {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface Snapshot {
  dir: string;
  copied: Map<string, Copied>;
  racyAfterMs: number;
}

export interface RefreshResult {
  /** The entries with sizes of the copies, which are what gets archived. */
  entries: WalkedEntry[];
  files: number;
  bytes: number;
}

export function snapshotPath(snapshotDir: string, e: WalkedEntry): string {
  return join(snapshotDir, e.path);
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await work(item);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** Makes `path` a directory or a copy of `source`, whatever was there before (the tree may have changed shape). */
async function place(e: WalkedEntry, dest: string): Promise<void> {
  const there = await lstat(dest).catch(() => undefined);
  if (there && there.isDirectory() !== (e.type === 'directory')) await rm(dest, { recursive: true, force: true });
  if (e.type === 'directory') await mkdir(dest, { recursive: true, mode: 0o700 });
  else await copyFile(e.source, dest, constants.COPYFILE_FICLONE);
}

/** First pass, unfrozen: copy everything (reflink when the filesystem can). Files that vanish meanwhile are skipped. */
export async function precopy(entries: readonly WalkedEntry[], snapshotDir: string): Promise<Snapshot> {
  const snapshot: Snapshot = { dir: snapshotDir, copied: new Map(), racyAfterMs: Date.now() - RACY_MARGIN_MS };
  await mkdir(snapshotDir, { mode: 0o700 });
  for (const e of entries) if (e.type === 'directory') await place(e, snapshotPath(snapshotDir, e));
  await inParallel(
    entries.filter((e) => e.type === 'file'),
    async (e) => {
      try {
        await place(e, snapshotPath(snapshotDir, e));
        snapshot.copied.set(e.path, { ino: e.ino, size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs });
      } catch (error) {
        if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTDIR')) throw error;
      }
    },
  );
  return snapshot;
}

function unchanged(e: WalkedEntry, before: Copied | undefined, racyAfterMs: number): boolean {
  return (
    before !== undefined &&
    before.ino === e.ino &&
    before.size === e.size &&
    before.mtimeMs === e.mtimeMs &&
    before.ctimeMs === e.ctimeMs &&
    before.ctimeMs < racyAfterMs &&
    !ALWAYS_RECOPY.test(e.path)
  );
}

/** Second pass, frozen: bring the snapshot in line with `entries` (walked while frozen). */
export async function refreshSnapshot(entries: readonly WalkedEntry[], snapshot: Snapshot): Promise<RefreshResult> {
  for (const e of entries) if (e.type === 'directory') await place(e, snapshotPath(snapshot.dir, e));
  const out = [...entries];
  const stale = out.map((e, i) => ({ e, i })).filter(({ e }) => e.type === 'file' && !unchanged(e, snapshot.copied.get(e.path), snapshot.racyAfterMs));
  let bytes = 0;
  await inParallel(stale, async ({ e, i }) => {
    const dest = snapshotPath(snapshot.dir, e);
    await place(e, dest);
    // The copy is what gets archived: take its size, so a file that still
    // changed under an ineffective guard can never tear the tar.
    const size = (await lstat(dest)).size;
    bytes += size;
    out[i] = { ...e, size };
  });
  return { entries: out, files: stale.length, bytes };
}
