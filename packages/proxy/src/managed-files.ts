// The conf dir as ocm sees it: files whose first line is the marker are ocm's,
// everything else belongs to someone else and is never changed or deleted.
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MANAGED_MARKER, isManagedContent } from '@ocm/core';

export { MANAGED_MARKER, isManagedContent };

const NAME = /^[a-z0-9][a-z0-9._-]{0,100}\.conf$/;
const TEMP = /^\..+\.ocm-[0-9]+-[0-9a-f]+\.tmp$/;

export interface ManagedFile {
  content: Buffer;
  mode: number;
}

export interface ConfDirState {
  /** ocm's files by name, byte for byte. */
  managed: Map<string, ManagedFile>;
  /** Names taken by files (or other entries) ocm did not write. */
  foreign: Set<string>;
}

/** A plain `<name>.conf` file name: no directories, nothing nginx's `*.conf` include would miss. */
export function isConfFileName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/** The content as written: the marker first, added when the renderer left it out. */
export function withMarker(content: string): Buffer {
  return Buffer.from(isManagedContent(content) ? content : `${MANAGED_MARKER}\n${content}`, 'utf8');
}

export async function readConfDir(dir: string): Promise<ConfDirState> {
  const state: ConfDirState = { managed: new Map(), foreign: new Set() };
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (TEMP.test(entry.name)) {
      // Leftover from a crash mid-write: ours by its name, never included by nginx.
      await unlink(join(dir, entry.name)).catch(() => {});
      continue;
    }
    if (!entry.isFile()) {
      state.foreign.add(entry.name);
      continue;
    }
    const path = join(dir, entry.name);
    if (!(await startsWithMarker(path))) {
      state.foreign.add(entry.name);
      continue;
    }
    const [content, info] = await Promise.all([readFile(path), stat(path)]);
    state.managed.set(entry.name, { content, mode: info.mode & 0o777 });
  }
  return state;
}

export async function removeIfPresent(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

async function startsWithMarker(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MANAGED_MARKER.length + 2);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return isManagedContent(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
