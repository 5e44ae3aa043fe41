// Every file ocm writes lands whole or not at all: write-file-atomic writes a
// temp file beside the target, fsyncs and renames it into place.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { OcmError, quote } from '@ocm/core';

export interface WriteOptions { mode: number; uid?: number; gid?: number }

export async function writeAtomic(path: string, content: string, options: WriteOptions): Promise<void> {
  const chown = options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : undefined;
  // Loaded on first write: read-only commands never pay for it.
  const { default: writeFileAtomic } = await import('write-file-atomic');
  await writeFileAtomic(path, content, { mode: options.mode, fsync: true, ...(chown === undefined ? {} : { chown }) });
}

/**
 * Like writeAtomic, but never through a link: the temp file is made
 * O_EXCL|O_NOFOLLOW and renamed over the entry, so a link standing at `path`
 * is replaced, not followed.
 */
export async function writeAtomicNoFollow(path: string, content: string, mode: number): Promise<void> {
  const temp = `${dirname(path)}/.${basename(path)}.ocm-${randomBytes(6).toString('hex')}`;
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const file = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    try {
      await file.writeFile(content);
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR' || code === 'EISDIR') {
      const what = code === 'ENOTDIR' ? 'a file stands where a directory of its path belongs' : 'it is a directory';
      throw new OcmError('OCM_E_ROOT_INVALID', `cannot read ${quote(path)}: ${what}`, {
        hint: 'move the thing that is in the way out of the deployment root, then retry',
        cause: error,
        details: { path },
      });
    }
    throw error;
  }
}
