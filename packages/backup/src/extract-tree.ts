// Creates a restored tree through directory descriptors only: every directory
// is made and reopened no-follow under its parent's descriptor, every file
// created O_EXCL|O_NOFOLLOW, and metadata set on the opened entry (fchown,
// fchmod, futimes), so a link planted anywhere is never followed and no host
// path grows past PATH_MAX however deep the tree is. setuid and setgid bits
// never come back: a tenant must not get a root-made setuid file.
import { constants } from 'node:fs';
import { lchown, link, lstat, lutimes, mkdir, open, symlink, type FileHandle } from 'node:fs/promises';
import { isErrno } from './durable-fs.js';
import { at, openRoot, TreeDirs, type Identity } from './tree-fs.js';

/** The permission bits a restore sets: never setuid or setgid. */
export const restoredMode = (mode: number): number => mode & 0o1777;

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REOPEN = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface Meta {
  mode: number;
  mtime: Date;
  owner: { uid: number; gid: number } | undefined;
}

export class ExtractTree {
  private constructor(
    private readonly root: FileHandle,
    private readonly dirs: TreeDirs,
    /** The directories made so far, by path: TreeDirs reopens only these very inodes. */
    private readonly made: Map<string, Identity>,
  ) {}

  /** `root` must be a fresh, private directory. */
  static async open(root: string): Promise<ExtractTree> {
    const { handle } = await openRoot(root);
    const made = new Map<string, Identity>();
    return new ExtractTree(handle, new TreeDirs(handle, '', made), made);
  }

  private notHere(path: string): Error {
    return new Error(`${JSON.stringify(path)} is not the directory this restore made`);
  }

  /** Makes the directory `path` (and its parents), 0700 until its metadata is applied. */
  async mkdirp(path: string): Promise<void> {
    if (this.made.has(path)) return;
    const [parent, name] = this.dirs.split(path);
    if (parent === undefined) throw this.notHere(path);
    if (parent !== '') await this.mkdirp(parent);
    await this.dirs.withDir(parent, async (dir) => {
      if (!dir) throw this.notHere(parent);
      await mkdir(at(dir, name), { mode: 0o700 }).catch((error: unknown) => {
        if (!isErrno(error, 'EEXIST')) throw error;
      });
      const st = await lstat(at(dir, name));
      if (!st.isDirectory()) throw this.notHere(path);
      this.made.set(path, { dev: st.dev, ino: st.ino });
    });
  }

  private inParent<T>(path: string, use: (dir: FileHandle, name: string) => Promise<T>): Promise<T> {
    const [parent, name] = this.dirs.split(path);
    if (parent === undefined) throw this.notHere(path);
    return this.dirs.withDir(parent, (dir) => {
      if (!dir) throw this.notHere(parent);
      return use(dir, name);
    });
  }

  /** Creates the new file `path` (0600) for writing; never opens anything that was already there. */
  async createFile(path: string): Promise<FileHandle> {
    const [parent] = this.dirs.split(path);
    if (parent !== undefined && parent !== '') await this.mkdirp(parent);
    return this.inParent(path, (dir, name) => open(at(dir, name), CREATE, 0o600));
  }

  private async onOpened(handle: FileHandle, meta: Meta): Promise<void> {
    try {
      if (meta.owner) await handle.chown(meta.owner.uid, meta.owner.gid);
      await handle.chmod(restoredMode(meta.mode));
      await handle.utimes(meta.mtime, meta.mtime);
    } finally {
      await handle.close();
    }
  }

  async fileMeta(path: string, meta: Meta): Promise<void> {
    const handle = await this.inParent(path, (dir, name) => open(at(dir, name), REOPEN));
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw this.notHere(path);
    }
    await this.onOpened(handle, meta);
  }

  async dirMeta(path: string, meta: Meta): Promise<void> {
    if (path === '') return;
    await this.dirs.withDir(path, async (dir) => {
      if (!dir) throw this.notHere(path);
      if (meta.owner) await dir.chown(meta.owner.uid, meta.owner.gid);
      await dir.chmod(restoredMode(meta.mode));
      await dir.utimes(meta.mtime, meta.mtime);
    });
  }

  async hardLink(target: string, path: string): Promise<void> {
    await this.inParent(target, (tdir, tname) => this.inParent(path, (dir, name) => link(at(tdir, tname), at(dir, name))));
  }

  async symlink(target: string, path: string, meta: Meta): Promise<void> {
    await this.inParent(path, async (dir, name) => {
      await symlink(target, at(dir, name));
      if (meta.owner) await lchown(at(dir, name), meta.owner.uid, meta.owner.gid);
      await lutimes(at(dir, name), meta.mtime, meta.mtime);
    });
  }

  async close(): Promise<void> {
    await this.dirs.close();
    await this.root.close();
  }
}
