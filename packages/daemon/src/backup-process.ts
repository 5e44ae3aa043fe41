// The daemon's backups run in a child process: `ocm backup --json`, the very
// command an admin runs. A tenant's tree then costs that process's event
// loop, memory and libuv pool, never the proxy's, the API's or the manifest
// watch's; a child stuck past its deadline is killed, and any user it left
// paused is thawed here.
import { spawn } from 'node:child_process';
import { containerName, type Manifest } from '@ocm/core';
import type { ContainerEngine } from '@ocm/engine';
import { SCHEDULED_RETRY_MS, type UserBackupOutcome } from '@ocm/ops';
import type { Logger } from 'pino';

export interface BackupProcessOptions {
  /** The ocm command line, e.g. [process.execPath, '/usr/local/bin/ocm']. */
  command: readonly string[];
  root: string;
  engine: ContainerEngine;
  manifest: () => Manifest;
  logger: Logger;
  /** Added to settings.backup.timeoutMinutes per user before the child is killed (default 2 min). */
  slackMs?: number;
  /** Replaces the whole deadline (tests). */
  deadlineMs?: number;
}

/**
 * Back up the named users (every user when empty). scheduled: the nightly run
 * (pruned by keepDaily/keepWeekly, a failed user retried once); otherwise a
 * backup asked for by hand (keepManual). retryDelayMs: the pause before that retry.
 */
export type RunBackups = (names: readonly string[], options?: { scheduled?: boolean; retryDelayMs?: number }) => Promise<UserBackupOutcome[]>;

function parseOutcomes(stdout: string): UserBackupOutcome[] {
  const out: UserBackupOutcome[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as UserBackupOutcome);
    } catch {
      // A torn last line of a killed child: that user has no outcome.
    }
  }
  return out;
}

/** Thaws users a killed child may have left paused. */
async function thaw(opts: BackupProcessOptions, users: readonly string[]): Promise<void> {
  const manifest = opts.manifest();
  for (const user of users) {
    const name = containerName(manifest, user);
    try {
      if ((await opts.engine.find(name))?.state === 'paused') {
        await opts.engine.unpause(name);
        opts.logger.warn({ user }, 'thawed a user left paused by a killed backup');
      }
    } catch (err) {
      opts.logger.error({ user, err: (err as Error).message }, 'could not check or thaw a user after a killed backup');
    }
  }
}

export function backupProcess(opts: BackupProcessOptions): RunBackups {
  return async (names, runOptions = {}) => {
    const manifest = opts.manifest();
    const users = names.length > 0 ? [...names] : manifest.users.map((u) => u.name);
    const scheduled = runOptions.scheduled === true;
    const retryMs = runOptions.retryDelayMs ?? (scheduled ? SCHEDULED_RETRY_MS : undefined);
    // Every user may take its timeout, twice with a retry, and wait for it.
    const perUserMs = manifest.settings.backup.timeoutMinutes * 60_000 * (retryMs === undefined ? 1 : 2) + (retryMs ?? 0);
    const deadlineMs = opts.deadlineMs ?? users.length * perUserMs + (opts.slackMs ?? 120_000);
    const [cmd, ...args] = opts.command;
    const flags = ['--json', ...(scheduled ? ['--scheduled'] : []), ...(runOptions.retryDelayMs === undefined ? [] : ['--retry-delay', String(runOptions.retryDelayMs / 1000)])];
    const child = spawn(cmd as string, [...args, '--root', opts.root, 'backup', ...(names.length > 0 ? names : ['--all']), ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OCM_ROOT: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    const outcomes = parseOutcomes(stdout);
    const done = new Set(outcomes.map((o) => o.user));
    const missing = users.filter((u) => !done.has(u));
    if (killed) await thaw(opts, missing);
    const why = killed
      ? { code: 'OCM_E_BACKUP_TIMEOUT', message: `the backup process was killed after ${Math.round(deadlineMs / 1000)} s` }
      : { code: 'OCM_E_BACKUP_FAILED', message: `the backup process exited ${code ?? 'abnormally'}: ${stderr.trim().split('\n').slice(-2).join(' ')}` };
    for (const user of missing) outcomes.push({ user, ok: false, time: new Date().toISOString(), attempts: 1, error: why });
    return outcomes;
  };
}
