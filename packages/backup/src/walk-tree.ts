// Lists the source trees (lstat only, no contents) in archive order: parents
// before children, names sorted bytewise, so archives are reproducible. The
// trees belong to tenants: the walk descends through directory descriptors
// opened no-follow (tree-fs.ts), never through paths, and stops as soon as a
// tree passes the user's limits, before anything is frozen or copied.
import { readdir, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { OcmError } from '@ocm/core';
import { isErrno } from './durable-fs.js';
import { isWithin, resolveInTree } from './entry-safety.js';
import { runtimeEntryReason } from './runtime-entries.js';
import type { SkippedEntry } from './manifest.js';
import { changedUnderUs, kindOf, lstatAt, openDirAt, openRoot, self, type Identity } from './tree-fs.js';
import type { BackupSource } from './types.js';

export interface WalkedEntry {
  /** Path inside the archive, e.g. `state/agents/a1/agent.sqlite`. */
  path: string;
  /** The host path, for messages only: it is never opened as a path. */
  display: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** What the walk saw: an opened descriptor must be this inode. */
  dev: number;
  ino: number;
  /** Allocated bytes, to tell a sparse file (`truncate -s 10G`) from a full one. */
  blocks: number;
  /** Change detection for the snapshot's second pass. */
  ctimeMs: number;
  linkname?: string;
  /** The private copy to archive instead of the live file (snapshot strategy). */
  copy?: string;
}

export interface WalkResult {
  entries: WalkedEntry[];
  skipped: SkippedEntry[];
  /** Identity of every directory walked, by archive path, for reopening them later. */
  dirs: Map<string, Identity>;
}

/** Per-user bounds on a tree, checked while walking so a huge tree costs little. */
export interface WalkLimits {
  user: string;
  /** Entries of any kind (files, directories, symlinks). */
  maxFiles: number;
  /** Apparent bytes of regular files (a sparse file counts at its full length). */
  maxBytes: number;
}

// lstat a directory's children this many at a time: the walk runs while frozen.
const PARALLEL = 32;
// Each level holds one descriptor while its children are walked.
const MAX_DEPTH = 1024;

const FIFO_REASON = 'not a regular file, directory or symlink (socket, fifo or device)';

interface Walk {
  out: WalkResult;
  limits: WalkLimits | undefined;
  bytes: number;
  signal: AbortSignal | undefined;
}

function overLimit(w: Walk, what: 'files' | 'bytes'): OcmError {
  const l = w.limits as WalkLimits;
  const [limit, setting] = what === 'files' ? [l.maxFiles, 'maxFiles'] : [l.maxBytes, 'maxBytes'];
  const shown = what === 'files' ? `${limit} files and directories` : `${limit} bytes`;
  return new OcmError('OCM_E_BACKUP_LIMIT', `the trees of ${JSON.stringify(l.user)} hold more than ${shown} (settings.backup.${setting}); no backup was made and nothing was frozen`, {
    hint: `clean up ${l.user}'s state (large or many files), or raise settings.backup.${setting} in ocm.yaml`,
    details: { user: l.user, limit: setting, value: limit },
  });
}

function count(w: Walk, e: WalkedEntry): void {
  if (!w.limits) return;
  if (w.out.entries.length > w.limits.maxFiles) throw overLimit(w, 'files');
  w.bytes += e.size;
  if (w.bytes > w.limits.maxBytes) throw overLimit(w, 'bytes');
}

function entryOf(path: string, display: string, st: Stats): Omit<WalkedEntry, 'type'> {
  return {
    path, display, size: 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs,
    dev: st.dev, ino: st.ino, blocks: st.blocks, ctimeMs: st.ctimeMs,
  };
}

/** undefined when the entry vanished between readdir and lstat (the unfrozen first walk races the gateway). */
async function statChild(dir: FileHandle, name: string, path: string, display: string): Promise<WalkedEntry | SkippedEntry | undefined> {
  try {
    const st = await lstatAt(dir, name);
    const kind = kindOf(st);
    if (kind === 'other') return { path, reason: FIFO_REASON };
    const base = entryOf(path, display, st);
    if (kind === 'file') return { ...base, type: 'file', size: st.size };
    if (kind === 'symlink') {
      // EINVAL: no longer a link (swapped for a directory since the lstat).
      const linkname = await readlink(`/proc/self/fd/${dir.fd}/${name}`).catch((error: unknown) => {
        if (isErrno(error, 'EINVAL')) return undefined;
        throw error;
      });
      if (linkname === undefined) return { path, reason: 'changed while it was read (a link was swapped for something else)' };
      return { ...base, type: 'symlink', linkname };
    }
    return { ...base, type: 'directory' };
  } catch (error) {
    if (changedUnderUs(error)) return undefined;
    throw error;
  }
}

async function walkDir(dir: FileHandle, at: WalkedEntry, depth: number, w: Walk): Promise<void> {
  w.signal?.throwIfAborted();
  const raw = await readdir(self(dir), { encoding: 'buffer' });
  raw.sort((a, b) => Buffer.compare(a, b));
  const children: Array<{ name: string; path: string; display: string }> = [];
  for (const name of raw) {
    const text = name.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(name)) children.push({ name: text, path: `${at.path}/${text}`, display: join(at.display, text) });
    else w.out.skipped.push({ path: `${at.path}/${text}`, reason: 'name is not valid UTF-8' });
  }
  for (let i = 0; i < children.length; i += PARALLEL) {
    const batch = await Promise.all(children.slice(i, i + PARALLEL).map((c) => statChild(dir, c.name, c.path, c.display)));
    for (const [j, entry] of batch.entries()) {
      if (entry === undefined) continue;
      if (!('type' in entry)) {
        w.out.skipped.push(entry);
        continue;
      }
      const runtime = runtimeEntryReason(entry.path, entry.type === 'directory');
      if (runtime !== undefined) {
        w.out.skipped.push({ path: entry.path, reason: runtime });
        continue;
      }
      if (entry.type !== 'directory') {
        w.out.entries.push(entry);
        count(w, entry);
        continue;
      }
      if (depth >= MAX_DEPTH) {
        w.out.skipped.push({ path: entry.path, reason: `more than ${MAX_DEPTH} directories deep` });
        continue;
      }
      const child = await openDirAt(dir, (children[i + j] as { name: string }).name, entry);
      if (!child) {
        w.out.skipped.push({ path: entry.path, reason: 'changed while it was read (replaced by a link or another directory)' });
        continue;
      }
      try {
        w.out.entries.push(entry);
        w.out.dirs.set(entry.path, { dev: entry.dev, ino: entry.ino });
        count(w, entry);
        await walkDir(child, entry, depth + 1, w);
      } finally {
        await child.close();
      }
    }
  }
}

async function walkOne(src: BackupSource, w: Walk): Promise<void> {
  const opened = await openRoot(src.dir).catch(() => undefined);
  if (!opened) {
    throw new OcmError('OCM_E_BACKUP_FAILED', `backup source ${JSON.stringify(src.dir)} is not a directory`, {
      details: { source: src.dir },
    });
  }
  try {
    const root: WalkedEntry = { ...entryOf(src.prefix, src.dir, opened.stat), type: 'directory' };
    w.out.entries.push(root);
    w.out.dirs.set(root.path, { dev: root.dev, ino: root.ino });
    await walkDir(opened.handle, root, 1, w);
  } finally {
    await opened.handle.close();
  }
}

/** Symlinks that would resolve outside their own tree cannot be restored safely, so they are left out. */
function dropEscapingLinks(result: WalkResult, prefixes: string[]): WalkResult {
  const links = new Map<string, string>();
  for (const e of result.entries) if (e.type === 'symlink') links.set(e.path, e.linkname ?? '');
  const entries: WalkedEntry[] = [];
  for (const e of result.entries) {
    const prefix = prefixes.find((p) => isWithin(e.path, p)) ?? '';
    const target = e.type === 'symlink' ? resolveInTree(e.path, e.linkname ?? '', links) : e.path;
    if (target === undefined || !isWithin(target, prefix)) {
      result.skipped.push({ path: e.path, reason: `symlink target ${JSON.stringify(e.linkname)} leaves the ${prefix} tree` });
    } else {
      entries.push(e);
    }
  }
  return { ...result, entries };
}

export async function walkSources(sources: readonly BackupSource[], limits?: WalkLimits, signal?: AbortSignal): Promise<WalkResult> {
  const w: Walk = { out: { entries: [], skipped: [], dirs: new Map() }, limits, bytes: 0, signal };
  for (const src of sources) await walkOne(src, w);
  return dropEscapingLinks(w.out, sources.map((s) => s.prefix));
}
