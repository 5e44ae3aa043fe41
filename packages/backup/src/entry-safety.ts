// The rules an archive entry must pass before anything is written: stay inside
// the tree, by name, by symlink and by hard link, whatever order entries come in.
import { posix } from 'node:path';
import { OcmError } from '@ocm/core';

export function unsafe(archive: string, entry: string, why: string): OcmError {
  return new OcmError('OCM_E_BACKUP_UNSAFE', `${archive}: entry ${JSON.stringify(entry)} ${why}`, {
    details: { archive, entry },
  });
}

/** `a/b/` -> `a/b`; undefined for absolute names, `..`, `.`, empty or NUL-bearing names. */
export function normalizeEntryName(name: string): string | undefined {
  const trimmed = name.replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || trimmed.includes('\0')) return undefined;
  const parts = trimmed.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return trimmed;
}

/** Every proper ancestor of `a/b/c`: `a`, `a/b`. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i += 1) out.push(parts.slice(0, i).join('/'));
  return out;
}

const MAX_HOPS = 40;

/**
 * Resolves `target` as the kernel would from the symlink at `linkPath`, inside a
 * tree where only `links` are symlinks. Returns the tree-relative path ('' is the
 * root) or undefined when resolution leaves the tree, is absolute or loops.
 */
export function resolveInTree(linkPath: string, target: string, links: ReadonlyMap<string, string>): string | undefined {
  if (target.startsWith('/')) return undefined;
  const resolved: string[] = posix.dirname(linkPath) === '.' ? [] : posix.dirname(linkPath).split('/');
  const pending = target.split('/').reverse();
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.pop() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return undefined;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const next = links.get(resolved.join('/'));
    if (next === undefined) continue;
    hops += 1;
    if (hops > MAX_HOPS || next.startsWith('/')) return undefined;
    resolved.pop();
    pending.push(...next.split('/').reverse());
  }
  return resolved.join('/');
}

/** True when `path` is `root` or below it ('' contains everything). */
export function isWithin(path: string, root: string): boolean {
  return root === '' || path === root || path.startsWith(`${root}/`);
}
