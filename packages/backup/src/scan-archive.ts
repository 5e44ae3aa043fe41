// One pass over an archive that checks everything verify and extract rely on:
// safe names and types, bodies matching the trailing manifest, nothing after it.
import { createHash } from 'node:crypto';
import { OcmError } from '@ocm/core';
import { MANIFEST_NAME } from './archive-name.js';
import { ancestorsOf, normalizeEntryName, resolveInTree, unsafe } from './entry-safety.js';
import { parseManifest, type BackupManifest, type EntryType } from './manifest.js';
import { forEachEntry } from './read-archive.js';

const MAX_MANIFEST = 256 << 20;

export interface ObservedEntry {
  path: string;
  type: EntryType;
  size: number;
  sha256?: string;
  linkname?: string;
}

/** Where extraction puts a file body; verify passes none. */
export interface FileSink {
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface ScanResult {
  manifest: BackupManifest;
  entries: ObservedEntry[];
  /** sha256 and size of the archive file as read. */
  sha256: string;
  bytes: number;
}

function corrupt(archive: string, why: string, entry?: string): OcmError {
  return new OcmError('OCM_E_BACKUP_CORRUPT', `${archive}: ${why}`, { details: entry === undefined ? { archive } : { archive, entry } });
}

const SAFE_TYPES = new Set(['file', 'directory', 'symlink', 'link']);

function compareWithManifest(archive: string, manifest: BackupManifest, seen: ReadonlyMap<string, ObservedEntry>): void {
  if (manifest.entries.length !== seen.size) {
    throw corrupt(archive, `the manifest lists ${manifest.entries.length} entries but the archive holds ${seen.size}`);
  }
  for (const m of manifest.entries) {
    const o = seen.get(m.path);
    if (!o) throw corrupt(archive, `entry ${JSON.stringify(m.path)} is in the manifest but not in the archive`, m.path);
    if (o.type !== m.type || o.size !== m.size || o.sha256 !== m.sha256 || (o.linkname ?? undefined) !== m.linkname) {
      throw corrupt(archive, `entry ${JSON.stringify(m.path)} does not match the manifest (size or sha256 differ)`, m.path);
    }
  }
}

/** Scans `archive`; calls `openFile` for each regular file body when given. Throws CORRUPT or UNSAFE. */
export async function scanArchive(archive: string, openFile?: (path: string) => Promise<FileSink>): Promise<ScanResult> {
  const seen = new Map<string, ObservedEntry>();
  const implied = new Set<string>();
  const links = new Map<string, string>();
  let manifest: BackupManifest | undefined;

  const read = await forEachEntry(archive, async (entry) => {
    const header = entry.header;
    if (manifest) throw corrupt(archive, `entry ${JSON.stringify(header.name)} follows the manifest`, header.name);
    const path = normalizeEntryName(header.name);
    if (path === undefined) throw unsafe(archive, header.name, 'is absolute or contains ".."');
    const type = header.type ?? 'file';
    if (path === MANIFEST_NAME && type === 'file') {
      if ((header.size ?? 0) > MAX_MANIFEST) throw corrupt(archive, 'the manifest is implausibly large');
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      manifest = parseManifest(archive, Buffer.concat(chunks).toString('utf8'));
      return;
    }
    if (!SAFE_TYPES.has(type)) throw unsafe(archive, path, `is a ${type} (only files, directories and links are restored)`);
    if (seen.has(path)) throw unsafe(archive, path, 'appears twice (a later copy could replace a checked one)');
    for (const parent of ancestorsOf(path)) {
      if (links.has(parent)) throw unsafe(archive, path, `goes through the symlink ${JSON.stringify(parent)}`);
      const p = seen.get(parent);
      if (p && p.type !== 'directory') throw unsafe(archive, path, `is below ${JSON.stringify(parent)}, which is not a directory`);
    }
    if (type !== 'directory' && implied.has(path)) throw unsafe(archive, path, 'would replace a directory holding earlier entries');
    for (const parent of ancestorsOf(path)) implied.add(parent);

    const observed: ObservedEntry = { path, type: type as EntryType, size: 0 };
    if (type === 'symlink') {
      const target = header.linkname ?? '';
      observed.linkname = target;
      links.set(path, target);
    } else if (type === 'link') {
      const target = normalizeEntryName(header.linkname ?? '');
      if (target === undefined || seen.get(target)?.type !== 'file') {
        throw unsafe(archive, path, `is a hard link to ${JSON.stringify(header.linkname)}, which is not a file earlier in the archive`);
      }
      observed.linkname = target;
    } else if (type === 'file') {
      const hash = createHash('sha256');
      const sink = await openFile?.(path);
      try {
        for await (const chunk of entry) {
          hash.update(chunk as Buffer);
          observed.size += (chunk as Buffer).length;
          await sink?.write(chunk as Buffer);
        }
      } finally {
        await sink?.close();
      }
      observed.sha256 = hash.digest('hex');
    }
    seen.set(path, observed);
  });

  // Checked once every symlink is known: a later link can redirect an earlier one.
  for (const [path, target] of links) {
    if (resolveInTree(path, target, links) === undefined) {
      throw unsafe(archive, path, `is a symlink to ${JSON.stringify(target)}, which resolves outside the tree`);
    }
  }
  if (!manifest) throw corrupt(archive, 'has no trailing manifest (an interrupted or foreign archive)');
  compareWithManifest(archive, manifest, seen);
  return { manifest, entries: [...seen.values()], ...read };
}
