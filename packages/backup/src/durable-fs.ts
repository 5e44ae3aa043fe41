// Durable trees: a rename is only crash-safe once the file and its directory
// have both reached the disk (single files: @ocm/fs writeDurable).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

// The writer and fsyncDir are @ocm/fs's, shared with the store and the proxy.
export { fsyncDir } from '@ocm/fs';

/** sha256 of a file, streamed (bounded memory whatever the size). */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

async function fsyncEach(dir: string): Promise<void> {
  const names = await readdir(dir, { recursive: true });
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map(async (name) => {
        const path = join(dir, name);
        if (!(await lstat(path)).isFile()) return;
        const handle = await open(path, 'r');
        await handle.sync().finally(() => handle.close());
      }),
    );
  }
}

/**
 * Flushes a freshly written tree to disk: one syncfs (`sync -f`, coreutils)
 * instead of an fsync per file, which costs seconds for thousands of files.
 */
export async function syncTree(dir: string): Promise<void> {
  const synced = await new Promise<boolean>((resolve) => {
    execFile('sync', ['-f', dir], (error) => resolve(error === null));
  });
  if (!synced) await fsyncEach(dir);
}

/**
 * Removes a tree a tenant wrote: coreutils' rm walks it by descriptors (no
 * link followed, no PATH_MAX limit), where Node's recursive rm fails on a
 * path deeper than PATH_MAX.
 */
export async function removeTree(path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('rm', ['-rf', '--one-file-system', '--', path], (error, _out, stderr) => (error ? reject(new Error(`rm -rf ${path}: ${stderr.trim() || error.message}`)) : resolve()));
  });
}
