// Extracts into a private temp dir next to the destination while verifying, in
// one read, and renames it into place only when every check passed: a refused
// or failed archive leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { MANIFEST_NAME } from './archive-name.js';
import { fsyncDir, isErrno, removeTree, syncTree } from './durable-fs.js';
import { ExtractTree, type Meta } from './extract-tree.js';
import type { ManifestEntry } from './manifest.js';
import type { FileSink } from './scan-archive.js';
import { scanVerified, type VerifyReport } from './verify-backup.js';

export interface Owner {
  uid: number;
  gid: number;
}

export interface ExtractOptions {
  /** When running as root, chown every entry to this owner instead of the archived one (e.g. 1000:1000 for the gateway). */
  expectOwner?: Owner;
  /** Flush the tree to disk before the final rename (default true). */
  durable?: boolean;
}

export interface ExtractReport {
  dest: string;
  verify: VerifyReport;
}

const isRoot = (): boolean => process.getuid?.() === 0;

async function assertUsableDest(dest: string): Promise<void> {
  try {
    if ((await readdir(dest)).length === 0) return;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  throw new OcmError('OCM_E_RESTORE_FAILED', `${JSON.stringify(dest)} exists and is not empty`, {
    hint: 'extract into a new or empty directory',
    details: { dest },
  });
}

/** Runs finishing work (metadata, close) in the background, at most `limit` at once, keeping the first error. */
function background(limit: number): { add(work: Promise<void>): Promise<void>; drain(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  return {
    async add(work) {
      const tracked = work.catch((error: unknown) => void (failure ??= { error })).finally(() => pending.delete(tracked));
      pending.add(tracked);
      if (pending.size >= limit) await Promise.race(pending);
      if (failure !== undefined) throw failure.error;
    },
    async drain() {
      await Promise.all(pending);
      if (failure !== undefined) throw failure.error;
    },
  };
}

/** Writes each file (0600 until applyMetadata sets what the verified manifest says). */
function fileSink(tree: ExtractTree, finishing: ReturnType<typeof background>): (path: string) => Promise<FileSink> {
  return async (path) => {
    // O_EXCL + O_NOFOLLOW under a directory descriptor: never write through anything already on disk.
    const handle = await tree.createFile(path);
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      // Many small files: overlapping their close with the next file is part of the speed.
      close: () => finishing.add(handle.close()),
    };
  };
}

async function applyMetadata(tree: ExtractTree, entries: readonly ManifestEntry[], owner: Owner | undefined): Promise<void> {
  const metaOf = (e: ManifestEntry): Meta => ({
    mode: e.mode,
    mtime: new Date(e.mtime),
    owner: isRoot() ? owner ?? { uid: e.uid, gid: e.gid } : undefined,
  });
  for (const e of entries) if (e.type === 'directory') await tree.mkdirp(e.path);
  // Files before any symlink exists (the scan refused entries below a
  // symlink); many at once, as they are small.
  const files = background(32);
  for (const e of entries) if (e.type === 'file') await files.add(tree.fileMeta(e.path, metaOf(e)));
  await files.drain();
  for (const e of entries) if (e.type === 'link') await tree.hardLink(e.linkname ?? '', e.path);
  for (const e of entries) if (e.type === 'symlink') await tree.symlink(e.linkname ?? '', e.path, metaOf(e));
  // Directories last and deepest first: creating children updates a parent's mtime.
  const dirs = entries.filter((e) => e.type === 'directory').sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const e of dirs) await tree.dirMeta(e.path, metaOf(e));
}

export async function extractBackup(archive: string, destDir: string, opts: ExtractOptions = {}): Promise<ExtractReport> {
  await assertUsableDest(destDir);
  const parent = dirname(destDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const temp = join(parent, `.extract-${basename(destDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    const finishing = background(32);
    const tree = await ExtractTree.open(temp);
    let verify: VerifyReport;
    try {
      verify = await scanVerified(archive, fileSink(tree, finishing)).finally(() => finishing.drain().catch(() => undefined));
      await finishing.drain();
      await applyMetadata(tree, verify.manifest.entries, opts.expectOwner);
    } finally {
      await tree.close();
    }
    const { manifest } = verify;
    await writeFile(join(temp, MANIFEST_NAME), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
    if (opts.durable ?? true) await syncTree(temp);
    await rename(temp, destDir);
    await fsyncDir(parent);
    return { dest: destDir, verify };
  } catch (error) {
    await removeTree(temp);
    if (isOcmError(error)) throw error;
    throw new OcmError('OCM_E_RESTORE_FAILED', `extracting ${archive} into ${JSON.stringify(destDir)} failed: ${(error as Error).message}`, {
      hint: 'nothing was written; check free space and permissions, then retry',
      cause: error,
      details: { archive, dest: destDir },
    });
  }
}
