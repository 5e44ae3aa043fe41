// The `<archive>.sha256` sidecar: the archive's completion mark and checksum,
// in the format `sha256sum -c` reads.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { writeDurable } from '@ocm/fs';
import { isErrno, sha256File } from './durable-fs.js';
import { sidecarName } from './archive-name.js';

const LINE = /^([0-9a-f]{64}) [ *](.+)\n?$/;

export function formatSidecar(archive: string, sha256: string): string {
  return `${sha256}  ${basename(archive)}\n`;
}

export async function writeSidecar(archive: string, sha256: string): Promise<void> {
  await writeDurable(sidecarName(archive), formatSidecar(archive, sha256), { mode: 0o600 });
}

/** The recorded sha256, or undefined when the sidecar is missing, malformed or names another file. */
export async function readSidecar(archive: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(sidecarName(archive), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const m = LINE.exec(text);
  return m && m[2] === basename(archive) ? m[1] : undefined;
}

export type SidecarCheck =
  | { ok: true; sha256: string; bytes: number }
  | { ok: false; reason: 'missing' | 'mismatch'; expected?: string; actual?: string };

/** Re-hashes the archive and compares it with its sidecar. */
export async function checkSidecar(archive: string): Promise<SidecarCheck> {
  const expected = await readSidecar(archive);
  if (expected === undefined) return { ok: false, reason: 'missing' };
  const { sha256, bytes } = await sha256File(archive);
  return sha256 === expected ? { ok: true, sha256, bytes } : { ok: false, reason: 'mismatch', expected, actual: sha256 };
}
