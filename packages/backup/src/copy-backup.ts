// Second copy of an archive (another disk or a mount): copied to a temp name,
// re-hashed from the copy, and only then given its sidecar and renamed.
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { parseArchiveName, sidecarName, tempName } from './archive-name.js';
import { fsyncDir, sha256File } from './durable-fs.js';
import { readSidecar, writeSidecar } from './sidecar.js';

export interface CopyResult {
  archive: string;
  sha256: string;
  bytes: number;
}

export async function copyBackup(archive: string, destDir: string): Promise<CopyResult> {
  const name = basename(archive);
  const parsed = parseArchiveName(name);
  const expected = await readSidecar(archive);
  if (!parsed || expected === undefined) {
    throw new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} is not a complete backup (name or checksum file missing); not copying it`, {
      details: { archive },
    });
  }
  await mkdir(destDir, { recursive: true, mode: 0o700 });
  const final = join(destDir, name);
  const temp = join(destDir, tempName(parsed.user, parsed.time, '.tar.gz.partial'));
  let sidecarOnly = false;
  try {
    await copyFile(archive, temp, constants.COPYFILE_EXCL);
    await chmod(temp, 0o600);
    const handle = await open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    const copied = await sha256File(temp);
    if (copied.sha256 !== expected) {
      throw new OcmError('OCM_E_BACKUP_FAILED', `copy of ${name} to ${destDir} has sha256 ${copied.sha256}, expected ${expected}`, {
        hint: 'the destination disk may be failing; the original archive is unchanged',
        details: { archive, destDir },
      });
    }
    // Sidecar first, as in createBackup: an archive on disk always has one.
    sidecarOnly = true;
    await writeSidecar(final, expected);
    await rename(temp, final);
    sidecarOnly = false;
    await fsyncDir(destDir);
    return { archive: final, sha256: expected, bytes: copied.bytes };
  } catch (error) {
    if (sidecarOnly) await rm(sidecarName(final), { force: true });
    await rm(temp, { force: true });
    if (isOcmError(error)) throw error;
    throw new OcmError('OCM_E_BACKUP_FAILED', `copying ${name} to ${destDir} failed: ${(error as Error).message}`, { cause: error });
  }
}
