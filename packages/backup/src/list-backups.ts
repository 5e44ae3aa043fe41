// Lists what counts as a backup: a final-named archive with a well-formed
// sidecar; temp files and interrupted archives are never listed.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArchiveName, type ArchiveKind } from './archive-name.js';
import { isErrno } from './durable-fs.js';
import { checkSidecar, readSidecar } from './sidecar.js';
import { systemClock, type Clock } from './types.js';
import { readVerify, recordCheck, type VerifyState } from './verify-state.js';

export interface BackupInfo {
  user: string;
  archive: string;
  time: Date;
  kind: ArchiveKind;
  bytes: number;
  /** true/false when `check` re-hashed the archive against its sidecar; null when not checked. */
  verified: boolean | null;
  /** The last recorded verification (at backup time, `backup verify`, `backups --check`); null when never verified. */
  lastVerify: VerifyState | null;
}

export interface ListOptions {
  /** Re-hash every archive (reads them all); the result is recorded beside each. */
  check?: boolean;
  /** Dates the recorded checks. */
  clock?: Clock;
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

async function listUser(dir: string, user: string, opts: ListOptions): Promise<BackupInfo[]> {
  const out: BackupInfo[] = [];
  for (const name of await namesIn(dir)) {
    const parsed = parseArchiveName(name);
    if (parsed?.user !== user) continue;
    const archive = join(dir, name);
    if ((await readSidecar(archive)) === undefined) continue;
    const st = await stat(archive).catch(() => undefined);
    if (!st?.isFile()) continue;
    let verified: boolean | null = null;
    let lastVerify: VerifyState | null;
    if (opts.check === true) {
      lastVerify = await recordCheck(archive, await checkSidecar(archive), opts.clock ?? systemClock);
      verified = lastVerify.ok;
    } else {
      lastVerify = (await readVerify(archive)) ?? null;
    }
    out.push({ user, archive, time: parsed.time, kind: parsed.kind, bytes: st.size, verified, lastVerify });
  }
  return out;
}

/** Backups under `<backupsDir>/<user>/`, for one user or all; per user, newest first. */
export async function listBackups(backupsDir: string, user?: string, opts: ListOptions = {}): Promise<BackupInfo[]> {
  const users = user === undefined ? (await namesIn(backupsDir)).filter((n) => !n.startsWith('.')).sort() : [user];
  const out: BackupInfo[] = [];
  for (const u of users) {
    const mine = await listUser(join(backupsDir, u), u, opts);
    out.push(...mine.sort((a, b) => b.time.getTime() - a.time.getTime()));
  }
  return out;
}
