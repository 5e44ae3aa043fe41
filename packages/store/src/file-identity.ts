// Whether a root file changed since it was last read, from one stat: the
// manifest cache and the meter's key versions both serve a file's last
// parse until its identity moves.
import { stat } from 'node:fs/promises';

export async function fileIdentity(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * File times tick with the kernel's coarse clock (up to 10 ms), so a file
 * read within that of its last change could change again, to the same size,
 * under the same times: such a read is not remembered (git's "racy" rule).
 */
export async function settled(path: string): Promise<boolean> {
  const s = await stat(path);
  return Date.now() - s.mtimeMs > 20;
}
