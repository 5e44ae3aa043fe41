// Extracts into a private temp dir next to the destination while verifying, in
// one read, and renames it into place only when every check passed: a refused
// or failed archive leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, readdir, rename, rm, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { MANIFEST_NAME } from './archive-name.js';
import { fsyncDir, isErrno, syncTree } from './durable-fs.js';
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
  let failure: unknown;
  return {
    async add(work) {
      const tracked = work.catch((error: unknown) => void (failure ??= error)).finally(() => pending.delete(tracked));
      pending.add(tracked);
      if (pending.size >= limit) await Promise.race(pending);
      if (failure !== undefined) throw failure;
    },
    async drain() {
      await Promise.all(pending);
      if (failure !== undefined) throw failure;
    },
  };
}

/** Writes each file (0600 until applyMetadata sets what the verified manifest says). */
function fileSink(root: string, finishing: ReturnType<typeof background>): (path: string) => Promise<FileSink> {
  const made = new Set<string>();
  return async (path) => {
    const full = join(root, path);
    const parent = dirname(full);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true, mode: 0o700 });
      made.add(parent);
    }
    // O_EXCL + O_NOFOLLOW: never write through anything already on disk.
    const handle = await open(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      // Many small files: overlapping their close with the next file is part of the speed.
      close: () => finishing.add(handle.close()),
    };
  };
}

async function applyMetadata(root: string, entries: readonly ManifestEntry[], owner: Owner | undefined): Promise<void> {
  const chownTo = (e: ManifestEntry): Owner | undefined => (isRoot() ? owner ?? { uid: e.uid, gid: e.gid } : undefined);
  for (const e of entries) if (e.type === 'directory') await mkdir(join(root, e.path), { recursive: true, mode: 0o700 });
  // Files before any symlink exists, so no path here can lead outside the tree
  // (the scan refused entries below a symlink); many at once, as they are small.
  const files = background(32);
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const full = join(root, e.path);
    const o = chownTo(e);
    await files.add((async () => {
      if (o) await lchown(full, o.uid, o.gid);
      await chmod(full, e.mode);
      await utimes(full, new Date(e.mtime), new Date(e.mtime));
    })());
  }
  await files.drain();
  for (const e of entries) if (e.type === 'link') await link(join(root, e.linkname ?? ''), join(root, e.path));
  for (const e of entries) {
    if (e.type !== 'symlink') continue;
    const full = join(root, e.path);
    await symlink(e.linkname ?? '', full);
    const o = chownTo(e);
    if (o) await lchown(full, o.uid, o.gid);
    await lutimes(full, new Date(e.mtime), new Date(e.mtime));
  }
  // Directories last and deepest first: creating children updates a parent's mtime.
  const dirs = entries.filter((e) => e.type === 'directory').sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const e of dirs) {
    const full = join(root, e.path);
    const o = chownTo(e);
    if (o) await lchown(full, o.uid, o.gid);
    await chmod(full, e.mode);
    await utimes(full, new Date(e.mtime), new Date(e.mtime));
  }
}

export async function extractBackup(archive: string, destDir: string, opts: ExtractOptions = {}): Promise<ExtractReport> {
  await assertUsableDest(destDir);
  const parent = dirname(destDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const temp = join(parent, `.extract-${basename(destDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    const finishing = background(32);
    const verify = await scanVerified(archive, fileSink(temp, finishing)).finally(() => finishing.drain().catch(() => undefined));
    await finishing.drain();
    const { manifest } = verify;
    await writeFile(join(temp, MANIFEST_NAME), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
    await applyMetadata(temp, manifest.entries, opts.expectOwner);
    if (opts.durable ?? true) await syncTree(temp);
    await rename(temp, destDir);
    await fsyncDir(parent);
    return { dest: destDir, verify };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (isOcmError(error)) throw error;
    throw new OcmError('OCM_E_RESTORE_FAILED', `extracting ${archive} into ${JSON.stringify(destDir)} failed: ${(error as Error).message}`, {
      hint: 'nothing was written; check free space and permissions, then retry',
      cause: error,
      details: { archive, dest: destDir },
    });
  }
}
