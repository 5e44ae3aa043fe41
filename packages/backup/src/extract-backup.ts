// Verifies, then extracts into a private temp dir next to the destination and
// renames it into place: a refused or failed archive leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, readdir, rename, rm, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { MANIFEST_NAME } from './archive-name.js';
import { fsyncDir, isErrno } from './durable-fs.js';
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
  /** fsync every file before the final rename (default true). */
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

function fileSink(root: string, durable: boolean): (path: string) => Promise<FileSink> {
  return async (path) => {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true, mode: 0o700 });
    // O_EXCL + O_NOFOLLOW: never write through anything already on disk.
    const handle = await open(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      close: async () => {
        if (durable) await handle.sync();
        await handle.close();
      },
    };
  };
}

async function applyMetadata(root: string, entries: readonly ManifestEntry[], owner: Owner | undefined): Promise<void> {
  const chownTo = (e: ManifestEntry): Owner | undefined => (isRoot() ? owner ?? { uid: e.uid, gid: e.gid } : undefined);
  for (const e of entries) if (e.type === 'directory') await mkdir(join(root, e.path), { recursive: true, mode: 0o700 });
  for (const e of entries) if (e.type === 'link') await link(join(root, e.linkname ?? ''), join(root, e.path));
  for (const e of entries) if (e.type === 'symlink') await symlink(e.linkname ?? '', join(root, e.path));
  for (const e of entries) {
    const full = join(root, e.path);
    const when = new Date(e.mtime);
    const o = chownTo(e);
    if (e.type === 'file') {
      if (o) await lchown(full, o.uid, o.gid);
      await chmod(full, e.mode);
      await utimes(full, when, when);
    } else if (e.type === 'symlink') {
      if (o) await lchown(full, o.uid, o.gid);
      await lutimes(full, when, when);
    }
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
    const { manifest } = await scanArchive(archive, fileSink(temp, opts.durable ?? true));
    await writeFile(join(temp, MANIFEST_NAME), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
    await applyMetadata(temp, manifest.entries, opts.expectOwner);
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
