// Housekeeping of one user's backup directory: a pid lock so two runs never
// interleave, and removal of what a killed run left behind.
import { open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OcmError } from '@ocm/core';
import { LOCK_NAME, SIDECAR_SUFFIX, VERIFY_SUFFIX, parseArchiveName, tempPrefix } from './archive-name.js';
import { isErrno } from './durable-fs.js';
import { scanArchive } from './scan-archive.js';
import { readSidecar, writeSidecar } from './sidecar.js';

export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isErrno(error, 'ESRCH');
  }
}

/** Takes `<dir>/.ocm-backup.lock` (O_EXCL, holding our pid); a lock whose pid is gone is taken over. */
export async function acquireLock(dir: string, user: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new OcmError('OCM_E_LOCKED', `a backup of ${JSON.stringify(user)} is already running (pid ${pid})`, {
          hint: 'wait for it to finish; if no ocm process runs, remove the lock file',
          details: { lock: path, pid },
        });
      }
      await rm(path, { force: true });
    }
  }
  throw new OcmError('OCM_E_LOCKED', `could not take the backup lock ${JSON.stringify(path)}`);
}

// `.tmp-<user>-<stamp>-<pid>...` (archives, snapshots) and `.<file>.<pid>.tmp` (atomic writes).
const PID_IN_TEMP = [/^\.tmp-.+-\d{8}T\d{6}Z-(\d+)/, /\.(\d+)\.tmp$/];

function tempPid(name: string): number | undefined {
  for (const re of PID_IN_TEMP) {
    const m = re.exec(name);
    if (m?.[1] !== undefined) return Number(m[1]);
  }
  return undefined;
}

export interface Cleanup {
  removed: string[];
  adopted: string[];
}

/**
 * Tidies this user's directory after a killed run: temp archives and snapshots
 * of dead writers and sidecars without an archive are removed (a run writes
 * the sidecar before it renames the archive, and retention deletes the
 * archive before its sidecar), and so are verify results without an archive. A final-named archive without a sidecar, such
 * as one copied back by hand, is adopted when it verifies in full, and
 * otherwise left alone (never listed, never deleted: it may not be ours).
 * Call only while holding the lock.
 */
export async function cleanStale(dir: string, user: string): Promise<Cleanup> {
  const out: Cleanup = { removed: [], adopted: [] };
  const names = await readdir(dir);
  const present = new Set(names);
  for (const name of names) {
    const path = join(dir, name);
    let stale = false;
    if (name.startsWith(tempPrefix(user)) || (name.startsWith(`.${user}-`) && name.endsWith('.tmp'))) {
      const pid = tempPid(name);
      stale = pid === undefined || !isAlive(pid);
    } else if (parseArchiveName(name)?.user === user) {
      if ((await readSidecar(path)) !== undefined) continue;
      const scan = await scanArchive(path).catch(() => undefined);
      if (scan) {
        await writeSidecar(path, scan.sha256);
        out.adopted.push(name);
      }
    } else if (name.endsWith(SIDECAR_SUFFIX) && parseArchiveName(name.slice(0, -SIDECAR_SUFFIX.length))?.user === user) {
      stale = !present.has(name.slice(0, -SIDECAR_SUFFIX.length));
    } else if (name.endsWith(VERIFY_SUFFIX) && parseArchiveName(name.slice(0, -VERIFY_SUFFIX.length))?.user === user) {
      // A verify result outlives its archive when a prune races `backup verify`.
      stale = !present.has(name.slice(0, -VERIFY_SUFFIX.length));
    }
    if (stale) {
      await rm(path, { recursive: true, force: true });
      out.removed.push(name);
    }
  }
  return out;
}
