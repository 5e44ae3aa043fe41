// The one way ocm writes a file: whole or not at all, and on disk before it
// says so. A temp file beside the target (created exclusively and never
// through a link), its mode (and owner) set, fsynced, renamed over the target,
// and the directory fsynced, so a crash leaves the old file or the new one.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface DurableWriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
  /**
   * A link standing at the path: true writes its target (an admin's ocm.yaml
   * kept in a repository and linked into the root); false (the default)
   * replaces the link itself, which is the only safe choice anywhere a tenant
   * could have planted one. With true, a file that exists keeps its owner
   * (unless uid/gid say otherwise): an ocm.yaml the admin owns stays theirs
   * when root ocm rewrites it.
   */
  followLink?: boolean;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeDurable(path: string, content: string | Uint8Array, options: DurableWriteOptions): Promise<void> {
  const target = options.followLink === true ? await linkTarget(path) : path;
  const owner = options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : options.followLink === true ? await ownerOf(target) : undefined;
  const temp = `${dirname(target)}/.${basename(target)}.ocm-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
  try {
    try {
      await handle.writeFile(content);
      // The umask may have narrowed the mode given to open().
      await handle.chmod(options.mode);
      if (owner !== undefined && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) {
        // Only root may give a file away; anyone else writes it as their own, as before.
        await handle.chown(owner.uid, owner.gid).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EPERM' || options.uid !== undefined) throw error;
        });
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDir(dirname(target));
}

async function ownerOf(path: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const { uid, gid } = await lstat(path);
    return { uid, gid };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The file a link at `path` points to (resolved fully), or `path` when it is no link or absent. */
async function linkTarget(path: string): Promise<string> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return path;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw error;
  }
  try {
    return await realpath(path);
  } catch (error) {
    // A link to a file not there yet: write where it points.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(dirname(path), await readlink(path));
    throw error;
  }
}
