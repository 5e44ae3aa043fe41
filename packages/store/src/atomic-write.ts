// Every file ocm writes lands whole or not at all: write-file-atomic writes a
// temp file beside the target, fsyncs and renames it into place.
import { readFile } from 'node:fs/promises';
import { OcmError, quote } from '@ocm/core';

export interface WriteOptions { mode: number; uid?: number; gid?: number }

export async function writeAtomic(path: string, content: string, options: WriteOptions): Promise<void> {
  const chown = options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : undefined;
  // Loaded on first write: read-only commands never pay for it.
  const { default: writeFileAtomic } = await import('write-file-atomic');
  await writeFileAtomic(path, content, { mode: options.mode, fsync: true, ...(chown === undefined ? {} : { chown }) });
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR' || code === 'EISDIR') {
      const what = code === 'ENOTDIR' ? 'a file stands where a directory of its path belongs' : 'it is a directory';
      throw new OcmError('OCM_E_ROOT_INVALID', `cannot read ${quote(path)}: ${what}`, {
        hint: 'move the thing that is in the way out of the deployment root, then retry',
        cause: error,
        details: { path },
      });
    }
    throw error;
  }
}
