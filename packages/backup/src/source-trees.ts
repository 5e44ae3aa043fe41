// The user's source trees, reopened after a walk for reading file bodies:
// only through directories that are still the inodes the walk saw.
import type { FileHandle } from 'node:fs/promises';
import { OcmError } from '@ocm/core';
import { openRoot, TreeDirs, type Identity, type OpenedLeaf } from './tree-fs.js';
import type { BackupSource } from './types.js';
import type { WalkedEntry } from './walk-tree.js';

export class SourceTrees {
  private constructor(private readonly trees: Map<string, TreeDirs>, private readonly roots: FileHandle[]) {}

  static async open(sources: readonly BackupSource[], dirs: ReadonlyMap<string, Identity>): Promise<SourceTrees> {
    const trees = new Map<string, TreeDirs>();
    const roots: FileHandle[] = [];
    try {
      for (const src of sources) {
        const { handle, stat } = await openRoot(src.dir);
        roots.push(handle);
        const want = dirs.get(src.prefix);
        if (!want || want.dev !== stat.dev || want.ino !== stat.ino) {
          throw new OcmError('OCM_E_BACKUP_FAILED', `backup source ${JSON.stringify(src.dir)} was replaced during the backup`, { details: { source: src.dir } });
        }
        trees.set(src.prefix, new TreeDirs(handle, src.prefix, dirs));
      }
    } catch (error) {
      for (const h of roots) await h.close().catch(() => undefined);
      throw error;
    }
    return new SourceTrees(trees, roots);
  }

  /** Opens a walked file, or says why it is skipped (swapped, now a FIFO, vanished). */
  openFile(e: WalkedEntry): Promise<OpenedLeaf> {
    const prefix = e.path.slice(0, e.path.indexOf('/'));
    const tree = this.trees.get(prefix);
    if (!tree) return Promise.resolve({ skip: 'not in any source tree' });
    return tree.openFile(e.path, e);
  }

  async close(): Promise<void> {
    for (const t of this.trees.values()) await t.close();
    for (const h of this.roots) await h.close().catch(() => undefined);
  }
}
