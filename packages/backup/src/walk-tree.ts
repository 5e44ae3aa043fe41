// Lists the source trees (lstat only, no contents) in archive order: parents
// before children, names sorted bytewise, so archives are reproducible.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OcmError } from '@ocm/core';
import { isWithin, resolveInTree } from './entry-safety.js';
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
  linkname?: string;
}

export interface WalkResult {
  entries: WalkedEntry[];
  skipped: SkippedEntry[];
}

async function statEntry(path: string, source: string): Promise<WalkedEntry | SkippedEntry> {
  const st = await lstat(source);
  const base = { path, source, size: 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isFile()) return { ...base, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: await readlink(source) };
  return { path, reason: 'not a regular file, directory or symlink (socket, fifo or device)' };
}

async function walkOne(src: BackupSource, out: WalkResult): Promise<void> {
  const root = await lstat(src.dir).catch(() => undefined);
  if (!root?.isDirectory()) {
    throw new OcmError('OCM_E_BACKUP_FAILED', `backup source ${JSON.stringify(src.dir)} is not a directory`, {
      details: { source: src.dir },
    });
  }
  const stack: Array<{ path: string; source: string }> = [{ path: src.prefix, source: src.dir }];
  while (stack.length > 0) {
    const { path, source } = stack.pop() as { path: string; source: string };
    const entry = await statEntry(path, source);
    if (!('type' in entry)) {
      out.skipped.push(entry);
      continue;
    }
    out.entries.push(entry);
    if (entry.type !== 'directory') continue;
    const names = await readdir(source, { encoding: 'buffer' });
    names.sort(Buffer.compare);
    // Reverse so the stack pops children in sorted order.
    for (const raw of names.reverse()) {
      const name = raw.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        out.skipped.push({ path: `${path}/${name}`, reason: 'name is not valid UTF-8' });
        continue;
      }
      stack.push({ path: `${path}/${name}`, source: join(source, name) });
    }
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
  return { entries, skipped: result.skipped };
}

export async function walkSources(sources: readonly BackupSource[]): Promise<WalkResult> {
  const result: WalkResult = { entries: [], skipped: [] };
  for (const src of sources) await walkOne(src, result);
  return dropEscapingLinks(result, sources.map((s) => s.prefix));
}
