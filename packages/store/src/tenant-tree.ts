// Every root operation inside a user's tree goes through here. The tenant's
// gateway writes users/<name>/state and config, so root must never resolve a
// path there: each step opens a directory handle without following links and
// works relative to it through /proc/self/fd/<fd>/<name> (Node has no openat),
// reads only regular files opened non-blocking, and owns files by handle.
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { OcmError, quote } from '@ocm/core';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/** A path inside a directory handle that the kernel resolves through the handle, not by name. */
export const at = (dir: FileHandle, name: string): string => `/proc/self/fd/${dir.fd}/${name}`;

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function assertEntryName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new OcmError('OCM_E_INTERNAL', `not a single path entry: ${quote(name)}`);
  }
}

/**
 * Open `base` (the admin's own path: links there are the admin's choice) and
 * then each of `entries` below it as a directory, refusing a link at any step.
 */
export async function openDirUnder(base: string, entries: readonly string[]): Promise<FileHandle> {
  let dir = await open(base, O_RDONLY | O_DIRECTORY);
  try {
    for (const name of entries) {
      assertEntryName(name);
      const next = await open(at(dir, name), DIR_FLAGS);
      await dir.close();
      dir = next;
    }
    return dir;
  } catch (error) {
    await dir.close().catch(() => undefined);
    throw error;
  }
}

export type ReadResult = { kind: 'absent' } | { kind: 'file'; text: string } | { kind: 'refused'; reason: string };

function describeMode(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR: return 'a directory';
    case constants.S_IFIFO: return 'a FIFO';
    case constants.S_IFSOCK: return 'a socket';
    case constants.S_IFCHR: return 'a character device';
    case constants.S_IFBLK: return 'a block device';
    case constants.S_IFLNK: return 'a symbolic link';
    default: return 'not a regular file';
  }
}

/**
 * Read `name` in `dir` only if it is a regular file with one link and at most
 * `maxBytes`: a symlink, FIFO, socket, device, directory or oversized file is
 * refused with a reason, never opened for reading or waited on.
 */
export async function readRegularFile(dir: FileHandle, name: string, maxBytes: number): Promise<ReadResult> {
  assertEntryName(name);
  let file: FileHandle;
  try {
    file = await open(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    switch (code(error)) {
      case 'ENOENT': return { kind: 'absent' };
      case 'ELOOP': return { kind: 'refused', reason: 'is a symbolic link' };
      case 'ENXIO': return { kind: 'refused', reason: 'is a socket or a FIFO without a writer' };
      case 'EACCES': case 'EPERM': return { kind: 'refused', reason: 'cannot be opened' };
      default: throw error;
    }
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) return { kind: 'refused', reason: `is ${describeMode(info.mode)}` };
    if (info.nlink !== 1) return { kind: 'refused', reason: `has ${info.nlink} hard links` };
    if (info.size > maxBytes) return { kind: 'refused', reason: `is ${info.size} bytes, over the ${maxBytes}-byte limit` };
    // Read at most one byte past the cap: a file that grows under us is refused, not followed.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { kind: 'refused', reason: `grew past the ${maxBytes}-byte limit while read` };
    }
    return { kind: 'file', text: buffer.subarray(0, length).toString('utf8') };
  } finally {
    await file.close();
  }
}

export interface Owner { uid: number; gid: number }

/**
 * Replace `name` in `dir` whole: a new file made in the same directory handle
 * (O_EXCL|O_NOFOLLOW, so nothing the tenant placed is reused), owned and
 * synced by handle, then renamed over the entry. A link at `name` is replaced,
 * never written through.
 */
export async function replaceFile(dir: FileHandle, name: string, content: string, mode: number, owner?: Owner): Promise<void> {
  assertEntryName(name);
  const temp = `.${name}.ocm-${randomBytes(6).toString('hex')}`;
  const file = await open(at(dir, temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    try {
      await file.writeFile(content);
      if (owner !== undefined) await file.chown(owner.uid, owner.gid);
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(at(dir, temp), at(dir, name));
  } catch (error) {
    await unlink(at(dir, temp)).catch(() => undefined);
    throw error;
  }
  await dir.sync().catch(() => undefined);
}

/**
 * Make sure `name` in `dir` is a real directory with this mode (and owner,
 * when given); mode and owner are set through its handle.
 */
export async function ensureDirIn(dir: FileHandle, name: string, mode: number, owner?: Owner): Promise<boolean> {
  assertEntryName(name);
  let created = true;
  await mkdir(at(dir, name), { mode }).catch((error: unknown) => {
    if (code(error) !== 'EEXIST') throw error;
    created = false;
  });
  let child: FileHandle;
  try {
    child = await open(at(dir, name), DIR_FLAGS);
  } catch (error) {
    if (code(error) === 'ELOOP' || code(error) === 'ENOTDIR') {
      throw new OcmError('OCM_E_ROOT_INVALID', `${quote(name)} is not a directory (a link or a file stands there)`, {
        hint: 'move it out of the deployment root, then retry', cause: error,
      });
    }
    throw error;
  }
  try {
    const info = await child.stat();
    if ((info.mode & 0o7777) !== mode) await child.chmod(mode);
    if (owner !== undefined && (info.uid !== owner.uid || info.gid !== owner.gid)) await child.chown(owner.uid, owner.gid);
  } finally {
    await child.close();
  }
  return created;
}

interface Frame { name: string; dev: number; ino: number; pending: string[] | undefined }

/**
 * Delete `name` in `parent` and everything below it without following a
 * link: one directory handle open at a time, descent by no-follow open,
 * ascent by `..` checked against the inode we came from, so depth and host
 * path length do not matter. Refuses to cross into another filesystem.
 */
export async function removeTreeIn(parent: FileHandle, name: string): Promise<void> {
  assertEntryName(name);
  let current: FileHandle;
  try {
    current = await open(at(parent, name), DIR_FLAGS);
  } catch (error) {
    if (code(error) === 'ENOENT') return;
    if (code(error) === 'ELOOP' || code(error) === 'ENOTDIR') return void (await unlink(at(parent, name)));
    throw error;
  }
  const top = await current.stat();
  const stack: Frame[] = [];
  let frame: Frame = { name, dev: top.dev, ino: top.ino, pending: undefined };
  try {
    for (;;) {
      if (frame.pending === undefined) {
        const pending: string[] = [];
        for (const entry of await readdir(`/proc/self/fd/${current.fd}`, { withFileTypes: true })) {
          if (entry.isDirectory()) pending.push(entry.name);
          else await unlinkEntry(current, entry.name, pending);
        }
        frame.pending = pending;
      }
      const next = frame.pending.pop();
      if (next !== undefined) {
        let child: FileHandle;
        try {
          child = await open(at(current, next), DIR_FLAGS);
        } catch (error) {
          if (code(error) === 'ENOENT') continue;
          if (code(error) === 'ELOOP' || code(error) === 'ENOTDIR') {
            await unlinkEntry(current, next, frame.pending);
            continue;
          }
          throw error;
        }
        const info = await child.stat();
        if (info.dev !== frame.dev) {
          await child.close();
          throw new OcmError('OCM_E_PURGE_FAILED', `${quote(next)} inside ${quote(frame.name)} is another filesystem mounted there; not removed`, {
            hint: 'unmount it, then delete the rest by hand',
          });
        }
        stack.push(frame);
        await current.close();
        current = child;
        frame = { name: next, dev: info.dev, ino: info.ino, pending: undefined };
        continue;
      }
      const up = stack.pop();
      if (up === undefined) break;
      const parentDir = await open(`/proc/self/fd/${current.fd}/..`, DIR_FLAGS);
      const info = await parentDir.stat();
      await current.close();
      current = parentDir;
      if (info.ino !== up.ino || info.dev !== up.dev) {
        throw new OcmError('OCM_E_PURGE_FAILED', `a directory moved while ${quote(name)} was being removed`, { hint: 'stop whatever writes there and retry' });
      }
      await rmdir(at(current, frame.name));
      frame = up;
    }
  } finally {
    await current.close().catch(() => undefined);
  }
  await rmdir(at(parent, name));
}

async function unlinkEntry(dir: FileHandle, name: string, pending: string[]): Promise<void> {
  try {
    await unlink(at(dir, name));
  } catch (error) {
    if (code(error) === 'ENOENT') return;
    // A directory where the listing said file: descend into it instead.
    if (code(error) === 'EISDIR' || code(error) === 'EPERM') return void pending.push(name);
    throw error;
  }
}
