// What root does to a user's directories, each step through tenant-tree's
// no-follow handles: create and own them, merge openclaw.json, purge them.
import { mkdir, readdir, rename, type FileHandle } from 'node:fs/promises';
import { CONFIG_FILE, OcmError, TRASH_DIR, mergeGatewayConfig, quote, rootLayout, type GatewayConfigKeys } from '@ocm/core';
import { at, ensureDirIn, openDirUnder, readRegularFile, removeTreeIn, replaceFile, type Owner } from './tenant-tree.js';

/** openclaw.json is a few KiB; anything this big is not a config root should parse. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

async function withDir<T>(base: string, entries: readonly string[], fn: (dir: FileHandle) => Promise<T>): Promise<T> {
  const dir = await openDirUnder(base, entries);
  try {
    return await fn(dir);
  } finally {
    await dir.close();
  }
}

/** Create `users/<name>/<entry>` (entry '' for the user's own directory) with this mode and owner. */
export async function ensureUserDir(root: string, name: string, entry: string, mode: number, owner?: Owner): Promise<boolean> {
  if (entry === '') return withDir(root, ['users'], (users) => ensureDirIn(users, name, mode, owner));
  return withDir(root, ['users', name], (dir) => ensureDirIn(dir, entry, mode, owner));
}

export type ConfigMerge = { kind: 'unchanged' } | { kind: 'updated' } | { kind: 'skipped'; reason: string };

/**
 * Add ocm's keys to the user's openclaw.json. Anything the tenant could use
 * against root (a link, FIFO, device, huge or unparsable file, a swap during
 * the write) skips this user's merge with a reason instead of failing others.
 */
export async function mergeUserConfig(root: string, name: string, keys: GatewayConfigKeys, owner?: Owner): Promise<ConfigMerge> {
  const file = `users/${name}/state/${CONFIG_FILE}`;
  try {
    return await withDir(root, ['users', name, 'state'], async (dir) => {
      const current = await readRegularFile(dir, CONFIG_FILE, CONFIG_MAX_BYTES);
      if (current.kind === 'refused') return { kind: 'skipped', reason: current.reason };
      let next: string | undefined;
      try {
        next = mergeGatewayConfig(current.kind === 'file' ? current.text : undefined, keys, file);
      } catch (error) {
        if (error instanceof OcmError) return { kind: 'skipped', reason: error.message.replace(`${file}: `, '') };
        throw error;
      }
      if (next === undefined) return { kind: 'unchanged' };
      await replaceFile(dir, CONFIG_FILE, next, 0o600, owner);
      return { kind: 'updated' };
    });
  } catch (error) {
    if (error instanceof OcmError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { kind: 'skipped', reason: `could not be written safely (${code}: ${(error as Error).message})` };
  }
}

/**
 * Whether users/<name>/state holds anything: what a user removed without
 * --purge leaves, and what adding the same name again would reuse. Read
 * through no-follow handles; the entries are only counted, never opened.
 */
export async function keptUserState(root: string, name: string): Promise<boolean> {
  try {
    return await withDir(root, ['users', name, 'state'], async (dir) => (await readdir(`/proc/self/fd/${dir.fd}`)).length > 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // Something that is not a plain directory sits there: it is not empty.
    if (code === 'ELOOP' || code === 'ENOTDIR') return true;
    throw error;
  }
}

export interface PurgeResult { trashed: string | undefined }

/**
 * Move users/<name> into <root>/.trash (0700, root's) in one rename, then
 * delete it there without following links. The caller must have removed the
 * user's container first: nothing of the tenant may run during this.
 */
export async function purgeUserTree(root: string, name: string, stamp: string): Promise<PurgeResult> {
  const trashDir = rootLayout(root).trash;
  await mkdir(trashDir, { mode: 0o700 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  const aside = `${name}-${stamp}`;
  return withDir(root, [TRASH_DIR], async (trash) => {
    const info = await trash.stat();
    if (process.getuid?.() === 0 && info.uid !== 0) throw new OcmError('OCM_E_PURGE_FAILED', `${quote(trashDir)} is not owned by root; nothing was deleted`, { hint: `remove ${trashDir} and retry` });
    if ((info.mode & 0o777) !== 0o700) await trash.chmod(0o700);
    const moved = await withDir(root, ['users'], async (users) => {
      try {
        await rename(at(users, name), at(trash, aside));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    });
    if (!moved) return { trashed: undefined };
    try {
      await removeTreeIn(trash, aside);
    } catch (error) {
      throw new OcmError('OCM_E_PURGE_FAILED', `could not delete ${quote(`${TRASH_DIR}/${aside}`)}: ${(error as Error).message}`, { cause: error });
    }
    return { trashed: `${TRASH_DIR}/${aside}` };
  });
}

/** Delete a root-owned directory of the root (backups/<name>) without following links. */
export async function removeRootDir(root: string, parent: string, name: string): Promise<void> {
  await withDir(root, [parent], (dir) => removeTreeIn(dir, name)).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  });
}
