// `ocm daemon` (foreground: admin API, status page, proxy, backups),
// `ocm daemon token` and `ocm daemon install` (systemd unit).
import { existsSync, realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { DestinationStream } from 'pino';
import { OcmError, quote } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { ensureAdminToken } from '@ocm/store';
import { opsContext } from '../context.js';
import { makeEngine } from '../engine-factory.js';
import { favourMemoryOverSpeed } from '../heap-policy.js';
import type { Io } from '../io.js';

/** The absolute path of bin/ocm: the nearest one above this module (source, compiled or bundled). */
function ocmBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin', 'ocm'))) return join(dir, 'bin', 'ocm');
    dir = dirname(dir);
  }
  return resolve(process.argv[1] ?? 'bin/ocm');
}
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

async function existingRoot(cmd: Command, io: Io) {
  const ctx = opsContext(cmd, io);
  if (!(await ctx.root.exists())) {
    throw new OcmError('OCM_E_MANIFEST_MISSING', `no ocm.yaml in ${ctx.root.path}`);
  }
  return ctx;
}

const FORMATS = ['auto', 'pretty', 'json'];

/** One readable line per event on stderr: time, level, message, then the fields (already redacted by the logger). */
async function readableLog(): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss', ignore: 'pid,hostname', singleLine: true });
}

export function registerDaemonCommands(program: Command, io: Io): void {
  const daemon = program.command('daemon')
    .description('the long-running part: admin API and status page, subdomain proxy, manifest watch, nightly backups');

  daemon.command('run', { isDefault: true })
    .description('run the daemon in the foreground until SIGTERM/SIGINT (the default)')
    .option('--log-level <level>', `one of ${LEVELS.join(', ')}`, 'info')
    .option('--log-format <format>', 'auto (readable lines on a terminal, JSON otherwise), pretty or json', 'auto')
    .addHelpText('after', '\nExamples:\n  ocm daemon\n  ocm --root /srv/ocm daemon --log-level debug\n  ocm daemon --log-format json | jq .')
    .action(async (opts: { logLevel: string; logFormat: string }, cmd: Command) => {
      if (!LEVELS.includes(opts.logLevel)) throw new OcmError('OCM_E_USAGE', `--log-level ${quote(opts.logLevel)} is not a level`, { hint: `use one of ${LEVELS.join(', ')}` });
      if (!FORMATS.includes(opts.logFormat)) throw new OcmError('OCM_E_USAGE', `--log-format ${quote(opts.logFormat)} is not a format`, { hint: `use one of ${FORMATS.join(', ')}` });
      const ctx = await existingRoot(cmd, io);
      favourMemoryOverSpeed();
      const { createDaemonLogger, runDaemon } = await import('@ocm/daemon');
      // Backups run in a child `ocm backup`: this very launcher, wherever the CLI was bundled to.
      const backupCommand = [process.execPath, realpathSync(process.argv[1] ?? 'ocm')];
      const pretty = opts.logFormat === 'pretty' || (opts.logFormat === 'auto' && process.stderr.isTTY);
      const destination = pretty ? await readableLog() : undefined;
      await runDaemon({ root: ctx.root, engine: await makeEngine(), logger: createDaemonLogger({ level: opts.logLevel, ...(destination === undefined ? {} : { destination }) }), backupCommand });
    });

  daemon.command('token')
    .description('print the admin token for the API (Authorization: Bearer) and the status page')
    .addHelpText('after', '\nExample:\n  curl -H "Authorization: Bearer $(ocm daemon token)" http://127.0.0.1:7070/api/status')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = await existingRoot(cmd, io);
      io.out(await ensureAdminToken(ctx.root.path));
    });

  daemon.command('install')
    .description('write a systemd unit that runs `ocm daemon` for this root, and say how to enable it')
    .option('--user <user>', 'run as this user (needs Docker access); default root')
    .option('--print', 'print the unit instead of writing it')
    .option('--unit-file <path>', 'where to write the unit', '/etc/systemd/system/ocm.service')
    .addHelpText('after', '\nExamples:\n  ocm daemon install\n  ocm daemon install --print > ocm.service')
    .action(async (opts: { user?: string; print?: boolean; unitFile: string }, cmd: Command) => {
      const ctx = await existingRoot(cmd, io);
      const { renderSystemdUnit } = await import('@ocm/daemon');
      const unit = renderSystemdUnit({ nodePath: process.execPath, ocmBin: ocmBin(), root: ctx.root.path, ...(opts.user === undefined ? {} : { user: opts.user }) });
      if (opts.print === true) return io.out(unit.replace(/\n$/, ''));
      await ensureAdminToken(ctx.root.path);
      try {
        await mkdir(dirname(opts.unitFile), { recursive: true });
        await writeDurable(opts.unitFile, unit, { mode: 0o644, followLink: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new OcmError('OCM_E_USAGE', `cannot write ${opts.unitFile} (${code})`, { cause: error, hint: 'run it as root, or use --print and install the unit yourself' });
      }
      io.err(`wrote ${opts.unitFile}`);
      io.out('enable and start it with:\n  systemctl daemon-reload && systemctl enable --now ocm\nthen sign in to the status page with the token from `ocm daemon token`');
    });
}
