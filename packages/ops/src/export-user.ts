// `ocm export`: one user as a file another ocm root can import. The state is
// archived exactly as `ocm backup` archives it (same freeze, same runtime
// files left out), in a scratch directory of this root that goes afterwards,
// so the user's own backups and their retention are not touched.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { BACKUP_LOCK, OcmError, containerName, groupOf, parseSize, rootLayout, userNetwork, userOrigin, type Manifest, type User } from '@ocm/core';
import { backupUser, writeBundle, type BackupProgress, type Clock } from '@ocm/backup';
import { withDirLock } from '@ocm/store';
import { containerControl } from './backups.js';
import type { RuntimeContext } from './runtime-context.js';

/**
 * The entry as it travels: no port (the target allocates its own) and no env
 * values (model keys are the admin's secrets; only their names travel, so the
 * importer can say what to set again). The gateway token is not in the state
 * trees at all: the target mints a new one.
 */
export interface ExportedUser extends Partial<Pick<User, 'enabled' | 'image' | 'cpus' | 'memory' | 'pids' | 'egress' | 'budget'>> {
  name: string;
  envKeys: string[];
  /**
   * The settings.models.groups entry the user is a member of here, by name:
   * the target joins her to its own group of that name, if it has one.
   * Absent from exports written before it was recorded; they import the same.
   */
  group?: string;
  /** The source root's own entries in her openclaw.json (origin, bridge address), for the target to take out. */
  sourceGateway?: { allowedOrigins: string[]; trustedProxies: string[] };
}

export function exportedEntry(manifest: Manifest, user: User): ExportedUser {
  const { name, enabled, image, cpus, memory, pids, egress, budget } = user;
  const group = groupOf(manifest, name);
  return {
    name, enabled,
    ...(image === undefined ? {} : { image }),
    ...(cpus === undefined ? {} : { cpus }),
    ...(memory === undefined ? {} : { memory }),
    ...(pids === undefined ? {} : { pids }),
    ...(egress === undefined ? {} : { egress }),
    ...(budget === undefined ? {} : { budget }),
    envKeys: Object.keys(user.env).sort(),
    ...(group === undefined ? {} : { group }),
    // The root's own entries in her openclaw.json: the import takes them out.
    sourceGateway: { allowedOrigins: [userOrigin(manifest, name)], trustedProxies: [userNetwork(manifest, user).gateway] },
  };
}

export interface ExportOptions {
  clock?: Clock;
  onProgress?: (progress: BackupProgress) => void;
}

export interface ExportResult {
  user: string;
  files: number;
  sourceBytes: number;
  /** sha256 of the user's archive inside the export (recorded in the export's description). */
  payloadSha256: string;
  frozenMs: number;
  envKeys: string[];
}

const systemClock: Clock = { now: () => new Date() };

/** Writes the export of `name` to `out`; `out` is the caller's (a file it renames into place, or stdout). */
export async function exportUser(ctx: RuntimeContext, name: string, out: Writable, options: ExportOptions = {}): Promise<ExportResult> {
  const { manifest } = await ctx.root.load();
  const user = manifest.users.find((u) => u.name === name);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`, { details: { name } });
  const layout = rootLayout(ctx.root.path);
  const clock = options.clock ?? systemClock;
  const settings = manifest.settings.backup;
  const scratch = `${layout.backups}/.export-${name}-${randomBytes(6).toString('hex')}`;
  const lockDir = layout.user(name).backups;
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  await mkdir(scratch, { mode: 0o700 });
  try {
    // Never at the same time as a backup or restore of the same user.
    const backup = await withDirLock(lockDir, BACKUP_LOCK, () => backupUser({
      user: name,
      kind: 'manual',
      userDir: layout.user(name).dir,
      backupsDir: scratch,
      control: containerControl(ctx.engine, containerName(manifest, name)),
      mode: settings.consistency,
      clock,
      retention: false,
      limits: { maxFiles: settings.maxFiles, maxBytes: parseSize(settings.maxBytes, 'settings.backup.maxBytes') },
      timeoutMs: settings.timeoutMinutes * 60_000,
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }), 10 * 60_000, `a backup or restore of ${name} is running`);
    const entry = exportedEntry(manifest, user);
    await writeBundle(out, { createdAt: backup.createdAt.toISOString(), user: entry }, backup.archive, backup.sha256);
    await ctx.root.audit({ actor: ctx.actor, action: 'user.export', target: name, details: { sha256: backup.sha256, files: backup.files } });
    return { user: name, files: backup.files, sourceBytes: backup.sourceBytes, payloadSha256: backup.sha256, frozenMs: backup.frozenMs, envKeys: entry.envKeys };
  } finally {
    // Our own archive of the tenant's files, never a tree of theirs: a plain rm is right.
    await rm(scratch, { recursive: true, force: true });
  }
}
