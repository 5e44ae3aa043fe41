// While the container is frozen, copy the files to a private snapshot at disk
// speed (reflink when the filesystem can), so compression runs unfrozen.
import { constants } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { WalkedEntry } from './walk-tree.js';

const PARALLEL = 8;

/** Path of `e` inside the snapshot; archive paths are already relative and checked. */
export function snapshotPath(snapshotDir: string, e: WalkedEntry): string {
  return join(snapshotDir, e.path);
}

/**
 * Copies every file of `entries` under `snapshotDir` (mode 0700 dirs, 0600 files)
 * and returns the entries with sizes taken from the copies: the copy is what is
 * archived, so a file that changed under an ineffective guard can never tear the tar.
 */
export async function copySnapshot(entries: readonly WalkedEntry[], snapshotDir: string): Promise<WalkedEntry[]> {
  await mkdir(snapshotDir, { mode: 0o700 });
  for (const e of entries) {
    if (e.type === 'directory') await mkdir(snapshotPath(snapshotDir, e), { recursive: true, mode: 0o700 });
  }
  const out = [...entries];
  const files = out.map((e, i) => ({ e, i })).filter(({ e }) => e.type === 'file');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const item = files[next++];
      if (!item) break;
      const dest = snapshotPath(snapshotDir, item.e);
      await copyFile(item.e.source, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      out[item.i] = { ...item.e, size: (await stat(dest)).size };
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return out;
}
