// backup, backups, backup verify, restore.
import { realpathSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { OcmError } from '@ocm/core';
import type { UserBackupOutcome } from '@ocm/ops';
import { opsContext } from '../context.js';
import { makeEngine } from '../engine-factory.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';
import { keepYoungGenerationSmall } from '../heap-policy.js';
import { progress } from '../progress.js';

const backupsOps = () => import('@ocm/ops/backups');

const BACKUP_PHASES = { precopy: 'copying while the gateway runs', freeze: 'pausing the gateway for a consistent copy', archive: 'writing the archive' } as const;

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);

function summary(o: UserBackupOutcome): string {
  if (!o.ok) return `${o.user.padEnd(16)} FAILED ${o.error?.message ?? ''}`;
  const frozen = o.mode === 'stop' ? `down ${o.frozenMs ?? 0} ms` : `frozen ${o.frozenMs ?? 0} ms`;
  const extra = [o.pruned && o.pruned.length > 0 ? `pruned ${o.pruned.length}` : '', o.copy === undefined ? '' : 'copied', o.copyError === undefined ? '' : `copy FAILED: ${o.copyError}`].filter(Boolean).join(', ');
  return `${o.user.padEnd(16)} ${mb(o.bytes).padStart(9)}  ${String(o.files ?? 0).padStart(7)} files  ${((o.durationMs ?? 0) / 1000).toFixed(1)} s  ${frozen}  ${o.archive ?? ''}${extra === '' ? '' : `  (${extra})`}`;
}

/** "ok 2026-12-05 07:40", "FAILED: checksum mismatch", or "-" when never verified. */
function verifiedCell(v: { ok: boolean; at: string; reason?: string } | null): string {
  if (v === null) return '-';
  if (v.ok) return `ok ${v.at.replace('T', ' ').slice(0, 16)}`;
  const reason = v.reason ?? 'unknown';
  return `FAILED: ${reason.length > 60 ? `${reason.slice(0, 59)}…` : reason}`;
}

function retryDelay(text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds > 3600) {
    throw new OcmError('OCM_E_USAGE', `--retry-delay: ${JSON.stringify(text)} is not a number of seconds from 0 to 3600`, { hint: 'e.g. --retry-delay 60' });
  }
  return seconds;
}

export function registerBackupCommands(program: Command, io: Io): void {
  const backup = program.command('backup')
    .description("archive users' state and config now (gzip tar, checksummed, verified, retained)")
    .argument('[names...]', 'users to back up')
    .option('--all', 'every user, one after another')
    .option('--print-cron', 'print a system crontab line for hosts without the daemon')
    .option('--scheduled', 'a nightly run (daemon, cron line): kept by keepDaily/keepWeekly; without it the archive is a manual one, kept by keepManual')
    .option('--json', 'one JSON outcome per user and line (what the daemon reads)')
    .addOption(new Option('--retry-delay <seconds>', 'pause before the one retry of a failed user (default: 60 with --scheduled, no retry without)').argParser(retryDelay))
    .addHelpText('after', '\nExamples:\n  ocm backup alice\n  ocm backup --all\n  ocm backup --print-cron | sudo tee /etc/cron.d/ocm')
    .action(async (names: string[], opts: { all?: boolean; printCron?: boolean; scheduled?: boolean; json?: boolean; retryDelay?: number }, cmd: Command) => {
      keepYoungGenerationSmall();
      const ctx = opsContext(cmd, io);
      if (opts.printCron === true) {
        const { manifest } = await ctx.root.load();
        // The launcher that is running now, wherever the CLI was bundled to.
        const bin = realpathSync(process.argv[1] ?? 'ocm');
        io.out(`# ocm nightly backups (${manifest.settings.timezone}); cron uses the system time zone\nCRON_TZ=${manifest.settings.timezone}\n${manifest.settings.backup.schedule} root ${bin} --root ${ctx.root.path} backup --all --scheduled >>/var/log/ocm-backup.log 2>&1`);
        return;
      }
      if (names.length === 0 && opts.all !== true) throw new OcmError('OCM_E_USAGE', 'name the users to back up, or pass --all', { hint: 'ocm backup alice, or ocm backup --all' });
      if (names.length > 0 && opts.all === true) throw new OcmError('OCM_E_USAGE', '--all and user names do not go together', { hint: 'ocm backup --all, or ocm backup alice bob' });
      const { backupUsers } = await backupsOps();
      const engine = await makeEngine();
      const bar = progress(io);
      const outcomes = await backupUsers({ ...ctx, engine }, names, {
        scheduled: opts.scheduled === true,
        ...(opts.retryDelay === undefined ? {} : { retryDelayMs: opts.retryDelay * 1000 }),
        onProgress: (user, p) => {
          if (p.phase === 'done') return;
          bar.phase(user, BACKUP_PHASES[p.phase], p.totalBytes > 0 ? `${Math.round((100 * p.bytesRead) / p.totalBytes)}% of ${mb(p.totalBytes)}` : '');
        },
        onResult: (o) => {
          bar.finish(o.user, o.ok ? 'backed up' : 'failed');
          bar.above(() => io.out(opts.json === true ? JSON.stringify(o) : summary(o)));
        },
      }).finally(() => bar.done());
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length > 0) {
        throw new OcmError('OCM_E_BACKUP_FAILED', `${failed.length} of ${outcomes.length} backup(s) failed: ${failed.map((o) => o.user).join(', ')}`);
      }
    });

  backup.command('verify')
    .description('check an archive: sidecar checksum, full read, every file checksum, test extraction')
    .argument('[archive]', 'archive path, or <name> for their newest')
    .option('--all', 'every archive of every user')
    .addHelpText('after', '\nExamples:\n  ocm backup verify alice\n  ocm backup verify /opt/ocm/backups/alice/alice-20261123T030000Z.tar.gz\n  ocm backup verify --all')
    .action(async (archive: string | undefined, opts: { all?: boolean }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { listUserBackups, resolveArchive, verifyArchive } = await backupsOps();
      let targets: string[];
      if (opts.all === true) targets = (await listUserBackups(ctx)).map((b) => b.archive);
      else if (archive === undefined) throw new OcmError('OCM_E_USAGE', 'name an archive or a user, or pass --all', { hint: 'ocm backup verify alice' });
      else targets = [archive.includes('/') ? archive : await resolveArchive(ctx, archive)];
      let bad = 0;
      for (const path of targets) {
        try {
          const report = await verifyArchive(ctx, path);
          io.out(`ok   ${path} (${report.files} files, ${mb(report.sourceBytes)}, sha256 ${report.sha256.slice(0, 12)}…)`);
        } catch (error) {
          bad++;
          io.out(`BAD  ${path}: ${(error as Error).message}`);
        }
      }
      if (targets.length === 0) io.out('no archives yet');
      if (bad > 0) throw new OcmError('OCM_E_BACKUP_CORRUPT', `${bad} of ${targets.length} archive(s) failed verification`);
    });

  program.command('backups')
    .description('list archives with time, size, kind and the last verify result')
    .argument('[name]', 'only this user')
    .option('--check', 're-hash every archive against its checksum now (the result is recorded)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  ocm backups\n  ocm backups alice --check')
    .action(async (name: string | undefined, opts: { check?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { listUserBackups, lastBackupResult } = await backupsOps();
      const list = await listUserBackups(ctx, name, opts.check === true);
      if (opts.json === true) return io.out(json(list));
      const now = Date.now();
      io.out(list.length === 0 ? 'no backups yet: ocm backup --all' : table(['USER', 'TIME (UTC)', 'AGE', 'SIZE', 'KIND', 'VERIFIED (UTC)', 'ARCHIVE'], list.map((b) => [
        b.user, b.time.toISOString().replace('T', ' ').slice(0, 19), `${Math.round((now - b.time.getTime()) / 3_600_000)}h`, mb(b.bytes),
        b.kind, verifiedCell(b.lastVerify), b.archive.split('/').pop() ?? b.archive,
      ])));
      const users = name === undefined ? [...new Set(list.map((b) => b.user))] : [name];
      for (const user of users) {
        const last = await lastBackupResult(ctx.root.path, user);
        if (last !== undefined && !last.ok) io.out(`last backup of ${user} FAILED at ${last.time}: ${last.error?.message ?? ''}`);
      }
    });

  program.command('restore')
    .description("replace a user's state and config with an archive (verified first; token rotated)")
    .argument('<name>', 'user name')
    .argument('[archive]', 'archive file name or path (default: the newest)')
    .option('--yes', 'confirm: the current state is kept aside until the gateway is healthy again')
    .option('--to <dir>', 'extract into DIR for inspection instead; nothing else changes')
    .addHelpText('after', '\nExamples:\n  ocm restore alice --yes\n  ocm restore alice alice-20261120T030000Z.tar.gz --yes\n  ocm restore alice --to /tmp/alice-inspect')
    .action(async (name: string, archive: string | undefined, opts: { yes?: boolean; to?: string }, cmd: Command) => {
      keepYoungGenerationSmall();
      const ctx = opsContext(cmd, io);
      const ops = await backupsOps();
      if (opts.to !== undefined) {
        const report = await ops.restoreUserTo(ctx, name, archive, opts.to);
        io.out(`extracted ${report.verify.files} files (${mb(report.verify.sourceBytes)}) of ${report.verify.archive} into ${report.dest}`);
        return;
      }
      if (opts.yes !== true) throw new OcmError('OCM_E_CONFIRM_REQUIRED', `restore replaces ${name}'s current state and rotates their token`, { hint: `repeat with --yes (or inspect first with --to DIR)` });
      const bar = progress(io);
      const result = await ops.restoreUser({ ...ctx, engine: await makeEngine() }, name, archive, {
        onStep: (words) => bar.phase(name, words),
        onHealth: bar.health,
      }).finally(() => bar.done());
      io.out(`restored ${name} from ${result.archive} (taken ${result.backupCreatedAt.toISOString()}) in ${(result.durationMs / 1000).toFixed(1)} s (${name} was down ${(result.downtimeMs / 1000).toFixed(1)} s); token rotated: ocm token ${name}`);
    });
}
