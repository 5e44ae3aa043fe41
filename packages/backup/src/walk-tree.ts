// Lists the source trees (lstat only, no contents) in archive order: parents
// before children, names sorted bytewise, so archives are reproducible.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OcmError } from '@ocm/core';
import { isErrno } from './durable-fs.js';
import { isWithin, resolveInTree } from './entry-safety.js';
import { runtimeEntryReason } from './runtime-entries.js';
import type { SkippedEntry } from './manifest.js';
import type { BackupSource } from './types.js';

export interface WalkedEntry {
  /** Path inside the archive, e.g. `state/agents/a1/agent.sqlite`. */
  path: string;
  source: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** Change detection for the snapshot's second pass. */
  ino: number;
  ctimeMs: number;
  linkname?: string;
}

export interface WalkResult {
  entries: WalkedEntry[];
  skipped: SkippedEntry[];
}

// lstat a directory's children this many at a time: the walk runs while frozen.
const PARALLEL = 32;

const vanished = (error: unknown): boolean => isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR');

/** undefined when the entry vanished between readdir and lstat (the unfrozen first walk races the gateway). */
async function statEntry(path: string, source: string): Promise<WalkedEntry | SkippedEntry | undefined> {
  try {
    return await statLive(path, source);
  } catch (error) {
    if (vanished(error)) return undefined;
    throw error;
  }
}

async function statLive(path: string, source: string): Promise<WalkedEntry | SkippedEntry> {
  const st = await lstat(source);
  const base = { path, source, size: 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isFile()) return { ...base, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: await readlink(source) };
  return { path, reason: 'not a regular file, directory or symlink (socket, fifo or device)' };
}

async function walkDir(dir: WalkedEntry, out: WalkResult): Promise<void> {
  const raw = await readdir(dir.source, { encoding: 'buffer' }).catch((error: unknown) => {
    if (vanished(error)) return [] as Buffer[];
    throw error;
  });
  raw.sort(Buffer.compare);
  const children: Array<{ path: string; source: string }> = [];
  for (const name of raw) {
    const text = name.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(name)) children.push({ path: `${dir.path}/${text}`, source: join(dir.source, text) });
    else out.skipped.push({ path: `${dir.path}/${text}`, reason: 'name is not valid UTF-8' });
  }
  for (let i = 0; i < children.length; i += PARALLEL) {
    const batch = await Promise.all(children.slice(i, i + PARALLEL).map((c) => statEntry(c.path, c.source)));
    for (const entry of batch) {
      if (entry === undefined) continue;
      if (!('type' in entry)) {
        out.skipped.push(entry);
        continue;
      }
      const runtime = runtimeEntryReason(entry.path, entry.type === 'directory');
      if (runtime !== undefined) {
        out.skipped.push({ path: entry.path, reason: runtime });
        continue;
      }
      out.entries.push(entry);
      if (entry.type === 'directory') await walkDir(entry, out);
    }
  }
}

async function walkOne(src: BackupSource, out: WalkResult): Promise<void> {
  const root = await statEntry(src.prefix, src.dir).catch(() => undefined);
  if (!root || !('type' in root) || root.type !== 'directory') {
    throw new OcmError('OCM_E_BACKUP_FAILED', `backup source ${JSON.stringify(src.dir)} is not a directory`, {
      details: { source: src.dir },
    });
  }
  out.entries.push(root);
  await walkDir(root, out);
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
  return { entries, skipped: result.skipped };
}

export async function walkSources(sources: readonly BackupSource[]): Promise<WalkResult> {
  const result: WalkResult = { entries: [], skipped: [] };
  for (const src of sources) await walkOne(src, result);
  return dropEscapingLinks(result, sources.map((s) => s.prefix));
}
