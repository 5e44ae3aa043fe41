// Opens entries of a tree a tenant controls without ever following a link.
// Node has no openat(), so every directory is opened O_DIRECTORY|O_NOFOLLOW
// through its parent's descriptor (`/proc/self/fd/<dirfd>/<name>`, which the
// kernel resolves to the open directory itself, not to a path), every leaf
// O_NOFOLLOW|O_NONBLOCK (a FIFO opens at once instead of blocking a libuv
// worker), and what was opened is fstat-ed against what the walk's lstat saw:
// a tenant swapping a directory for a symlink (renameat2 RENAME_EXCHANGE
// loops) gets ELOOP or a different inode, never a host file.
import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { isErrno } from './durable-fs.js';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

/** What the walk saw of an entry, to compare an opened descriptor with. */
export interface Identity {
  dev: number;
  ino: number;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const LEAF_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export function kindOf(st: Stats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** The path of `name` inside the directory open as `dir`; short whatever the depth. */
export function at(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** The descriptor itself as a path: opening it reopens exactly that inode. */
export function self(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

/** Errors that mean "not the entry the walk saw any more": vanished, replaced by a link or a non-directory. */
export function changedUnderUs(error: unknown): boolean {
  return isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'ELOOP') || isErrno(error, 'ENXIO');
}

const same = (st: Stats, want: Identity | undefined): boolean => want === undefined || (st.dev === want.dev && st.ino === want.ino);

/** Opens the absolute root of a tree (its own path is ours, not the tenant's), refusing a link there too. */
export async function openRoot(path: string): Promise<{ handle: FileHandle; stat: Stats }> {
  const handle = await open(path, DIR_FLAGS);
  return { handle, stat: await handle.stat() };
}

/** lstat of `name` in `dir`, never following it. */
export function lstatAt(dir: FileHandle, name: string): Promise<Stats> {
  return lstat(at(dir, name));
}

/**
 * Opens the directory `name` in `dir`; undefined when it is gone, is not a
 * directory any more, or is another inode than `want`.
 */
export async function openDirAt(dir: FileHandle, name: string, want?: Identity): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(at(dir, name), DIR_FLAGS);
  } catch (error) {
    if (changedUnderUs(error)) return undefined;
    throw error;
  }
  const st = await handle.stat();
  if (st.isDirectory() && same(st, want)) return handle;
  await handle.close();
  return undefined;
}

export type OpenedLeaf = { handle: FileHandle; stat: Stats } | { skip: string };

/**
 * Opens the regular file `name` in `dir` for reading. A FIFO, socket or device
 * (or anything else than the inode `want`) is closed again and reported.
 */
export async function openFileAt(dir: FileHandle, name: string, want?: Identity): Promise<OpenedLeaf> {
  let handle: FileHandle;
  try {
    handle = await open(at(dir, name), LEAF_FLAGS);
  } catch (error) {
    if (changedUnderUs(error)) return { skip: 'changed while it was read (vanished or replaced by a link)' };
    throw error;
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    return { skip: 'not a regular file when opened (fifo, socket or device swapped in)' };
  }
  if (!same(st, want)) {
    await handle.close();
    return { skip: 'changed while it was read (another file was swapped in)' };
  }
  return { handle, stat: st };
}

/**
 * Directories of one tree opened by their path inside it, each component
 * no-follow and checked against the identity the walk recorded; a few stay
 * open, so sibling files cost one open each. A directory is closed only when
 * nobody uses it: a descriptor number closed under a concurrent user could be
 * reused by an unrelated open, and `/proc/self/fd/N` would then be that.
 */
export class TreeDirs {
  private readonly cache = new Map<string, { handle: FileHandle; users: number }>();

  constructor(
    private readonly root: FileHandle,
    /** The root's own path, e.g. `state`; every other path is below it (`state/agents`). */
    private readonly rootPath: string,
    /** Identity per directory path. */
    private readonly identities: ReadonlyMap<string, Identity>,
    private readonly keep = 64,
  ) {}

  /** Runs `use` with the directory at `rel`, or undefined when any component changed. */
  async withDir<T>(rel: string, use: (dir: FileHandle | undefined) => Promise<T>): Promise<T> {
    if (rel === this.rootPath) return use(this.root);
    let slot = this.cache.get(rel);
    if (slot) {
      // Most recently used last: a Map keeps insertion order.
      this.cache.delete(rel);
      this.cache.set(rel, slot);
    } else {
      const [parentPath, name] = this.split(rel);
      if (parentPath === undefined) return use(undefined);
      const handle = await this.withDir(parentPath, (parent) =>
        parent ? openDirAt(parent, name, this.identities.get(rel) ?? { dev: -1, ino: -1 }) : Promise.resolve(undefined),
      );
      if (!handle) return use(undefined);
      slot = this.cache.get(rel);
      if (slot) await handle.close();
      else this.cache.set(rel, (slot = { handle, users: 0 }));
    }
    slot.users += 1;
    try {
      return await use(slot.handle);
    } finally {
      slot.users -= 1;
      await this.evict();
    }
  }

  /** `a/b/c` -> [`a/b`, `c`]; a top-level name's parent is the root only when the root is ''. */
  split(rel: string): [string | undefined, string] {
    const slash = rel.lastIndexOf('/');
    if (slash >= 0) return [rel.slice(0, slash), rel.slice(slash + 1)];
    return [this.rootPath === '' ? '' : undefined, rel];
  }

  private async evict(): Promise<void> {
    for (const [rel, slot] of this.cache) {
      if (this.cache.size <= this.keep) return;
      if (slot.users > 0) continue;
      this.cache.delete(rel);
      await slot.handle.close();
    }
  }

  /** Opens the file at `rel` (e.g. `state/x.json`) if it is still the inode `want`, through verified directories only. */
  openFile(rel: string, want: Identity): Promise<OpenedLeaf> {
    const [parent, name] = this.split(rel);
    if (parent === undefined) return Promise.resolve({ skip: 'not below the tree' });
    return this.withDir(parent, (dir) =>
      dir ? openFileAt(dir, name, want) : Promise.resolve({ skip: 'changed while it was read (a parent directory was swapped)' }),
    );
  }

  async close(): Promise<void> {
    for (const slot of this.cache.values()) await slot.handle.close().catch(() => undefined);
    this.cache.clear();
  }
}
