// Backups as operations: one user after another, each archived with the
// configured consistency mode, verified, copied and pruned by the backup
// package; the outcome of the last run per user is kept for status pages.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { BACKUP_LOCK, OcmError, containerName, isOcmError, parseSize, rootLayout, type Manifest } from '@ocm/core';
import {
  backupUser, listBackups, parseArchiveName, restoreState, restoreTo, verifyAndRecord, verifyBackup,
  type BackupInfo, type BackupProgress, type Clock, type ContainerControl, type RestoreResult, type VerifyReport,
} from '@ocm/backup';
import { waitHealthy, type ContainerLifecycle, type ContainerReader, type HealthProgress } from '@ocm/engine';
import { writeDurable } from '@ocm/fs';
import { withDirLock } from '@ocm/store';
import { currentPlan, selectUsers } from './current-plan.js';
import type { OpsContext } from './context.js';
import type { RuntimeContext } from './runtime-context.js';

export interface UserBackupOutcome {
  user: string;
  ok: boolean;
  time: string;
  archive?: string;
  bytes?: number;
  files?: number;
  durationMs?: number;
  frozenMs?: number;
  mode?: string;
  /** manual: taken by hand (kept by keepManual); scheduled: the nightly run (keepDaily/keepWeekly). */
  kind?: 'manual' | 'scheduled';
  pruned?: string[];
  copy?: string;
  copyError?: string;
  error?: { code: string; message: string };
  attempts: number;
}

export interface BackupRunOptions {
  clock?: Clock;
  onProgress?: (user: string, progress: BackupProgress) => void;
  onResult?: (outcome: UserBackupOutcome) => void;
  /** Retry a failed user once after this delay (default: SCHEDULED_RETRY_MS for a scheduled run, no retry for a manual one). */
  retryDelayMs?: number;
  /** The nightly run (daemon schedule, cron line): pruned by keepDaily/keepWeekly. Otherwise a manual backup, pruned by keepManual. */
  scheduled?: boolean;
}

const systemClock: Clock = { now: () => new Date() };

/** A nightly run nobody watches tries a failed user once more after this; by hand, the admin sees the failure at once. */
export const SCHEDULED_RETRY_MS = 60_000;
const LAST_RESULT = '.last-result.json';

/**
 * Docker-backed control of one user's container for the consistency guard.
 * A swarm user whose task runs on another node cannot be frozen from here:
 * she is stopped instead (her service scaled to 0) and started again, so her
 * state is still read while nothing writes it.
 */
export function containerControl(engine: ContainerReader & ContainerLifecycle, container: string): ContainerControl {
  let stoppedInstead = false;
  return {
    isRunning: async () => (await engine.find(container))?.state === 'running',
    runToken: async () => {
      const info = await engine.find(container);
      return info === undefined ? 'missing' : `${info.id} ${info.state} ${info.startedAt} ${info.restartCount}`;
    },
    pause: async () => {
      try {
        await engine.pause(container);
      } catch (error) {
        if ((error as OcmError).code !== 'OCM_E_NODE_REMOTE') throw error;
        await engine.stop(container, { timeoutSeconds: 20 });
        stoppedInstead = true;
      }
    },
    unpause: async () => {
      if (!stoppedInstead) return engine.unpause(container);
      stoppedInstead = false;
      await engine.start(container);
    },
    stop: () => engine.stop(container, { timeoutSeconds: 20 }),
    start: () => engine.start(container),
  };
}

async function recordResult(root: string, outcome: UserBackupOutcome): Promise<void> {
  await writeDurable(`${rootLayout(root).user(outcome.user).backups}/${LAST_RESULT}`, `${JSON.stringify(outcome)}\n`, { mode: 0o600, followLink: true }).catch(() => undefined);
}

export async function lastBackupResult(root: string, user: string): Promise<UserBackupOutcome | undefined> {
  try {
    return JSON.parse(await readFile(`${rootLayout(root).user(user).backups}/${LAST_RESULT}`, 'utf8')) as UserBackupOutcome;
  } catch {
    return undefined;
  }
}

async function backupOne(ctx: RuntimeContext, manifest: Manifest, name: string, options: BackupRunOptions): Promise<UserBackupOutcome> {
  const clock = options.clock ?? systemClock;
  const settings = manifest.settings.backup;
  const started = clock.now();
  const kind = options.scheduled === true ? 'scheduled' : 'manual';
  const result = await backupUser({
    user: name,
    kind,
    userDir: rootLayout(ctx.root.path).user(name).dir,
    backupsDir: rootLayout(ctx.root.path).backups,
    control: containerControl(ctx.engine, containerName(manifest, name)),
    mode: settings.consistency,
    clock,
    ...(settings.copyTo === undefined ? {} : { copyTo: settings.copyTo }),
    retention: { keepDaily: settings.keepDaily, keepWeekly: settings.keepWeekly, keepManual: settings.keepManual },
    limits: { maxFiles: settings.maxFiles, maxBytes: parseSize(settings.maxBytes, 'settings.backup.maxBytes') },
    timeoutMs: settings.timeoutMinutes * 60_000,
    ...(options.onProgress === undefined ? {} : { onProgress: (p: BackupProgress) => options.onProgress?.(name, p) }),
  });
  return {
    user: name, ok: true, time: started.toISOString(), attempts: 1,
    archive: result.archive, bytes: result.bytes, files: result.files, durationMs: result.durationMs, frozenMs: result.frozenMs,
    mode: settings.consistency, kind, pruned: result.pruned,
    ...(result.copy === undefined ? {} : { copy: result.copy.archive }),
    ...(result.copyError === undefined ? {} : { copyError: result.copyError }),
  };
}

/**
 * Back up the named users (all when empty), strictly one after another: the
 * one loop every backup runs through (`ocm backup`, the daemon's schedule and
 * API, a cron line), with its retry, its per-user lock and its recorded
 * result. It reads ocm.yaml and writes nothing outside backups/.
 */
export async function backupUsers(ctx: RuntimeContext, names: readonly string[], options: BackupRunOptions = {}): Promise<UserBackupOutcome[]> {
  const { manifest } = await ctx.root.load();
  const users = selectUsers(manifest.users, names);
  const outcomes: UserBackupOutcome[] = [];
  for (const user of users) {
    let outcome: UserBackupOutcome | undefined;
    const retryDelayMs = options.retryDelayMs ?? (options.scheduled === true ? SCHEDULED_RETRY_MS : undefined);
    const attempts = retryDelayMs === undefined ? 1 : 2;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        // The daemon's schedule and a system cron job may overlap: one backup per user at a time.
        const dir = rootLayout(ctx.root.path).user(user.name).backups;
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const done = await withDirLock(dir, BACKUP_LOCK, () => backupOne(ctx, manifest, user.name, options), 10 * 60_000, `a backup of ${user.name} is already running`);
        outcome = { ...done, attempts: attempt };
        break;
      } catch (error) {
        const e = isOcmError(error) ? error : new OcmError('OCM_E_BACKUP_FAILED', `backup of ${user.name} failed: ${(error as Error).message}`, { cause: error });
        outcome = { user: user.name, ok: false, time: (options.clock ?? systemClock).now().toISOString(), attempts: attempt, error: { code: e.code, message: e.message } };
        if (attempt < attempts) await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
    const final = outcome as UserBackupOutcome;
    await recordResult(ctx.root.path, final);
    await ctx.root.audit({ actor: ctx.actor, action: 'backup', target: user.name, details: { ok: final.ok, archive: final.archive, error: final.error?.code } });
    options.onResult?.(final);
    outcomes.push(final);
  }
  return outcomes;
}

export async function listUserBackups(ctx: OpsContext, name?: string, check = false): Promise<BackupInfo[]> {
  const { manifest } = await ctx.root.load();
  if (name !== undefined && !manifest.users.some((u) => u.name === name)) {
    // Archives of removed users stay listable: only refuse names with no archives at all.
    const found = await listBackups(rootLayout(ctx.root.path).backups, name);
    if (found.length === 0) throw new OcmError('OCM_E_USER_UNKNOWN', `no user or backups named ${JSON.stringify(name)}`);
    return check ? listBackups(rootLayout(ctx.root.path).backups, name, { check }) : found;
  }
  return listBackups(rootLayout(ctx.root.path).backups, name, { check });
}

/** An archive by path, or a user's newest archive. */
export async function resolveArchive(ctx: OpsContext, name: string, archive?: string): Promise<string> {
  if (archive !== undefined) {
    if (archive.includes('/')) return archive;
    return `${rootLayout(ctx.root.path).user(name).backups}/${archive}`;
  }
  const all = await listBackups(rootLayout(ctx.root.path).backups, name);
  const newest = all.sort((a, b) => b.time.getTime() - a.time.getTime())[0];
  if (newest === undefined) throw new OcmError('OCM_E_BACKUP_MISSING', `${name} has no backups yet`, { hint: `make one with \`ocm backup ${name}\`` });
  return newest.archive;
}

/**
 * Full verification. For an archive in the root's backups directory the result
 * is recorded beside it, where `ocm backups` shows it; an archive elsewhere
 * (a copy, a path inside someone's tree) is only read, nothing is written there.
 */
export function verifyArchive(ctx: OpsContext, archive: string, clock: Clock = systemClock): Promise<VerifyReport> {
  const parsed = parseArchiveName(basename(archive));
  const ours = parsed !== undefined && dirname(resolve(archive)) === resolve(rootLayout(ctx.root.path).user(parsed.user).backups);
  return ours ? verifyAndRecord(archive, clock) : verifyBackup(archive);
}

export interface RestoreUserOptions {
  clock?: Clock;
  /** Each step as it begins, in words. */
  onStep?: (words: string) => void;
  onHealth?: (progress: HealthProgress) => void;
}

export async function restoreUser(ctx: RuntimeContext, name: string, archive: string | undefined, options: RestoreUserOptions = {}): Promise<RestoreResult> {
  const { manifest, plan } = await currentPlan(ctx);
  const [user] = selectUsers(plan, [name]);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`);
  const path = await resolveArchive(ctx, name, archive);
  const { uid, gid } = manifest.settings.gateway;
  // A restore must never race a backup of the same user (daemon schedule, cron).
  const lockDir = rootLayout(ctx.root.path).user(name).backups;
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  const result = await withDirLock(lockDir, BACKUP_LOCK, () => restoreState({
    archive: path,
    userDir: rootLayout(ctx.root.path).user(name).dir,
    control: containerControl(ctx.engine, user.container.name),
    clock: options.clock ?? systemClock,
    expectOwner: { uid, gid },
    // Restoring is time travel: the token the gateway knew at backup time must not come back.
    rotateToken: async () => {
      const envFile = rootLayout(ctx.root.path).user(name).env;
      const before = await readFile(envFile, 'utf8').catch(() => undefined);
      await ctx.root.locked(async () => {
        const { manifest: fresh } = await ctx.root.load();
        await ctx.root.apply(await ctx.root.render(fresh, new Set([name])));
      });
      await recreateStopped(ctx, name);
      return async () => {
        if (before === undefined) return;
        await ctx.root.locked(() => writeDurable(envFile, before, { mode: 0o600, followLink: true }));
        await recreateStopped(ctx, name);
      };
    },
    ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    waitHealthy: () => waitHealthy(ctx.engine, user, { timeoutMs: manifest.settings.health.timeoutSeconds * 1000, ...(options.onHealth === undefined ? {} : { onProgress: options.onHealth }) }),
  }), 10 * 60_000, `a backup or restore of ${name} is running`);
  await ctx.root.audit({ actor: ctx.actor, action: 'restore', target: name, details: { archive: path } });
  return result;
}

/** The env file changes the spec hash: (re)create the user's container, stopped, from the files as they are. */
async function recreateStopped(ctx: RuntimeContext, name: string): Promise<void> {
  const { plan } = await currentPlan(ctx);
  const next = selectUsers(plan, [name])[0];
  if (next === undefined) return;
  await ctx.engine.remove(next.container.name).catch(() => undefined);
  await ctx.engine.ensureNetwork(next.network);
  await ctx.engine.create(next.container, next.network);
}

export async function restoreUserTo(ctx: OpsContext, name: string, archive: string | undefined, dir: string) {
  const path = await resolveArchive(ctx, name, archive);
  return restoreTo(path, dir);
}
