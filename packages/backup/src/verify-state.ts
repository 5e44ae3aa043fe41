// The last verification of an archive, kept in `<archive>.verify.json` beside
// it (the backups directory, never a tenant's tree), so `ocm backups` can show
// it without re-reading every archive.
import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { isOcmError } from '@ocm/core';
import { verifyStateName } from './archive-name.js';
import { writeDurable } from '@ocm/fs';
import { isErrno } from './durable-fs.js';
import type { SidecarCheck } from './sidecar.js';
import type { Clock } from './types.js';
import { assertArchiveExists, verifyBackup, type VerifyReport } from './verify-backup.js';

export interface VerifyState {
  ok: boolean;
  /** ISO time of the check. */
  at: string;
  /** full: read back to the end, every file against the manifest; checksum: the archive re-hashed against its sidecar. */
  check: 'full' | 'checksum';
  /** Why it failed, when it did. */
  reason?: string;
}

const MAX_BYTES = 4096;

/**
 * Best effort: a full disk must not fail a backup or a check that itself
 * passed. When the new result cannot be written, the old one is removed, so
 * a stale "ok" never stands for a check that failed.
 */
export async function recordVerify(archive: string, state: VerifyState): Promise<boolean> {
  try {
    await writeDurable(verifyStateName(archive), `${JSON.stringify(state)}\n`, { mode: 0o600 });
    return true;
  } catch {
    await rm(verifyStateName(archive), { force: true }).catch(() => undefined);
    return false;
  }
}

function isVerifyState(value: unknown): value is VerifyState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.ok === 'boolean' && typeof v.at === 'string' && !Number.isNaN(Date.parse(v.at)) && (v.check === 'full' || v.check === 'checksum') &&
    (v.reason === undefined || typeof v.reason === 'string');
}

/** The recorded state, or undefined when never verified (or the file is not one we wrote). */
export async function readVerify(archive: string): Promise<VerifyState | undefined> {
  let text: string;
  try {
    const handle = await open(verifyStateName(archive), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_BYTES) return undefined;
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ELOOP')) return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isVerifyState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A short reason: the archive's own path is in the row already. */
export function failureReason(archive: string, error: unknown): string {
  if (isOcmError(error) && error.details.reason === 'mismatch') return 'checksum mismatch';
  if (isOcmError(error) && error.details.reason === 'missing') return 'checksum file missing';
  const message = error instanceof Error ? error.message : String(error);
  return message.split(archive).join(basename(archive)).slice(0, 300);
}

/** Full verification, recorded beside the archive whether it passes or fails (not when the archive is gone). */
export async function verifyAndRecord(archive: string, clock: Clock): Promise<VerifyReport> {
  await assertArchiveExists(archive);
  let report: VerifyReport;
  try {
    report = await verifyBackup(archive);
  } catch (error) {
    await recordVerify(archive, { ok: false, at: clock.now().toISOString(), check: 'full', reason: failureReason(archive, error) });
    throw error;
  }
  await recordVerify(archive, { ok: true, at: clock.now().toISOString(), check: 'full' });
  return report;
}

/** Records a `--check` (checksum against the sidecar). */
export async function recordCheck(archive: string, check: SidecarCheck, clock: Clock): Promise<VerifyState> {
  const state: VerifyState = check.ok
    ? { ok: true, at: clock.now().toISOString(), check: 'checksum' }
    : { ok: false, at: clock.now().toISOString(), check: 'checksum', reason: check.reason === 'mismatch' ? 'checksum mismatch' : 'checksum file missing' };
  await recordVerify(archive, state);
  return state;
}
