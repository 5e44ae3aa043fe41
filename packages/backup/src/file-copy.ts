// Copies one opened regular file into the private snapshot. A sparse file
// (`truncate -s 10G`: nothing allocated) is copied hole by hole, so it costs
// the host what it costs the tenant, never its apparent size; others go
// through copyFile on the descriptor itself (reflink where the filesystem can).
import { constants, type Stats } from 'node:fs';
import { copyFile, open, type FileHandle } from 'node:fs/promises';
import { self } from './tree-fs.js';

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);

/** Fewer blocks allocated than the length needs: holes (or compression) in the file. */
export function isSparse(st: Pick<Stats, 'blocks' | 'size'>): boolean {
  return st.size > CHUNK && st.blocks * 512 < st.size;
}

/** Copies at most `length` bytes of `src` hole-preserving into a new file `dest`; returns the length copied. */
export async function copySparse(src: FileHandle, dest: string, length: number): Promise<number> {
  const out = await open(dest, 'wx', 0o600);
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    while (pos < length) {
      const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, length - pos), pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      // An all-zero chunk is left as a hole: written at positions, never filled.
      if (!chunk.equals(ZEROS.subarray(0, bytesRead))) await out.write(chunk, 0, bytesRead, pos);
      pos += bytesRead;
    }
    await out.truncate(pos);
    return pos;
  } finally {
    await out.close();
  }
}

/** Copies the opened file `src` (whose fstat is `st`) to the new file `dest`; returns the bytes copied. */
export async function copyOpened(src: FileHandle, st: Stats, dest: string): Promise<number> {
  if (isSparse(st)) return copySparse(src, dest, st.size);
  // The descriptor's own /proc link reopens exactly the inode that was checked.
  await copyFile(self(src), dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  return (await open(dest, 'r').then(async (h) => {
    try {
      return await h.stat();
    } finally {
      await h.close();
    }
  })).size;
}
