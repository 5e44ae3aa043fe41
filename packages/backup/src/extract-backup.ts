// Verifies, then extracts into a private temp dir next to the destination and
// renames it into place: a refused or failed archive leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, readdir, rename, rm, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { MANIFEST_NAME } from './archive-name.js';
import { fsyncDir, isErrno, syncTree } from './durable-fs.js';
import type { ManifestEntry } from './manifest.js';
import { scanArchive, type FileSink } from './scan-archive.js';
import { verifyBackup, type VerifyReport } from './verify-backup.js';

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

/** Writes each file; its metadata (from the verified manifest) is set through the open descriptor. */
function fileSink(
  root: string,
  expected: ReadonlyMap<string, ManifestEntry>,
  owner: Owner | undefined,
  finishing: ReturnType<typeof background>,
): (path: string) => Promise<FileSink> {
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
    const e = expected.get(path);
    const finish = async (): Promise<void> => {
      try {
        if (!e) return;
        const o = isRoot() ? owner ?? { uid: e.uid, gid: e.gid } : undefined;
        if (o) await handle.chown(o.uid, o.gid);
        await handle.chmod(e.mode);
        await handle.utimes(new Date(e.mtime), new Date(e.mtime));
      } finally {
        await handle.close();
      }
    };
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      // Many small files: overlapping their chmod/chown/utimes/close is most of the speed.
      close: () => finishing.add(finish()),
    };
  };
}

async function applyMetadata(root: string, entries: readonly ManifestEntry[], owner: Owner | undefined): Promise<void> {
  const chownTo = (e: ManifestEntry): Owner | undefined => (isRoot() ? owner ?? { uid: e.uid, gid: e.gid } : undefined);
  for (const e of entries) if (e.type === 'directory') await mkdir(join(root, e.path), { recursive: true, mode: 0o700 });
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
  const verify = await verifyBackup(archive);
  await assertUsableDest(destDir);
  const parent = dirname(destDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const temp = join(parent, `.extract-${basename(destDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    // Second pass re-checks everything: the file could have changed since verify.
    const expected = new Map(verify.manifest.entries.map((e) => [e.path, e]));
    const finishing = background(32);
    const scanned = await scanArchive(archive, fileSink(temp, expected, opts.expectOwner, finishing)).finally(() => finishing.drain().catch(() => undefined));
    await finishing.drain();
    const { manifest, sha256 } = scanned;
    if (sha256 !== verify.sha256) {
      throw new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} changed while it was being extracted`, { details: { archive } });
    }
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
