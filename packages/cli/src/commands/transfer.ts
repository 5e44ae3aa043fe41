// export, import: a user carried from one ocm root to another as one file.
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { OcmError } from '@ocm/core';
import { opsContext } from '../context.js';
import { makeEngine } from '../engine-factory.js';
import type { Io } from '../io.js';
import { keepYoungGenerationSmall } from '../heap-policy.js';
import { guardInterrupts } from '../interrupt.js';
import { syncNginx } from '../nginx-sync.js';
import { progress } from '../progress.js';

const transferOps = async () => ({ ...(await import('@ocm/ops/export-user')), ...(await import('@ocm/ops/import-user')) });

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** A new file, 0600 from its first byte, that appears under its name only once complete. */
async function openTarget(path: string): Promise<{ stream: Writable; commit(): Promise<void>; abandon(): Promise<void> }> {
  if (await access(path).then(() => true, () => false)) {
    throw new OcmError('OCM_E_USAGE', `${path} already exists`, { hint: 'choose another file with -o, or remove that one first' });
  }
  const partial = join(dirname(path), `.${basename(path)}.partial-${randomBytes(4).toString('hex')}`);
  const handle = await open(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  const stream = createWriteStream('', { fd: handle.fd, autoClose: false });
  return {
    stream,
    async commit() {
      await handle.sync();
      await handle.close();
      await rename(partial, path);
    },
    async abandon() {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

function groupLine(name: string, group: { name: string; joined: boolean }, ownBudget: boolean): string {
  if (group.joined) return `${name} joined model group ${JSON.stringify(group.name)}, as at the source`;
  return `note: this root has no model group ${JSON.stringify(group.name)} (${name}'s at the source); ${name} ${ownBudget ? 'keeps their own budget, with no group budget' : "gets this root's default budget"}`;
}

export function registerTransferCommands(program: Command, io: Io): void {
  program.command('export')
    .description("write one user (state, config and their ocm.yaml entry) to a file another root can import; the admin's secrets and the gateway token stay here")
    .argument('<name>', 'user name')
    .option('-o, --output <file>', 'where to write it; - for stdout (default: ./<name>-<time>.ocm-export.tar)')
    .addHelpText('after', '\nExamples:\n  ocm export alice -o /tmp/alice.ocm-export.tar\n  ocm export alice -o - > /backup/alice.ocm-export.tar')
    .action(async (name: string, opts: { output?: string }, cmd: Command) => {
      keepYoungGenerationSmall();
      const ctx = opsContext(cmd, io);
      const toStdout = opts.output === '-';
      if (toStdout && process.stdout.isTTY === true) throw new OcmError('OCM_E_USAGE', 'an export is binary and stdout is a terminal', { hint: 'write it to a file with -o FILE, or pipe it' });
      const path = toStdout ? undefined : resolve(opts.output ?? `${name}-${stamp(new Date())}.ocm-export.tar`);
      const { exportUser } = await transferOps();
      const target = path === undefined ? undefined : await openTarget(path);
      // Progress only for someone watching: a script piping the export gets the result lines alone.
      const bar = process.stderr.isTTY === true ? progress(io) : undefined;
      try {
        const result = await exportUser({ ...ctx, engine: await makeEngine() }, name, target?.stream ?? process.stdout, {
          onProgress: (p) => {
            if (p.phase !== 'done') bar?.phase(name, p.phase === 'freeze' ? 'pausing the gateway for a consistent copy' : 'archiving', p.totalBytes > 0 ? `${Math.round((100 * p.bytesRead) / p.totalBytes)}%` : '');
          },
        }).finally(() => bar?.done());
        await target?.commit();
        io.err(`exported ${name}: ${result.files} files, ${result.sourceBytes} bytes, archive sha256 ${result.payloadSha256}${path === undefined ? '' : ` to ${path}`}`);
        if (result.envKeys.length > 0) io.err(`note: the values of ${result.envKeys.join(', ')} were not exported; set them again after the import with \`ocm set <name> --env KEY=VALUE\``);
        if (path !== undefined) io.out(path);
      } catch (error) {
        await target?.abandon();
        throw error;
      }
    });

  program.command('import')
    .description('add a user from a file `ocm export` wrote: checked first, then added with a new port, network and token, and started')
    .argument('<file>', 'the export file; - reads it from stdin')
    .option('--name <name>', 'import under another name (when the exported one is taken here)')
    .option('--no-start', 'place the user and their state, but do not start the gateway')
    .addHelpText('after', '\nExamples:\n  ocm import /tmp/alice.ocm-export.tar\n  ocm import /tmp/alice.ocm-export.tar --name alice2 --no-start\n  ocm export alice -o - | ssh other-host ocm import -')
    .action(async (file: string, opts: { name?: string; start: boolean }, cmd: Command) => {
      keepYoungGenerationSmall();
      const ctx = opsContext(cmd, io);
      const fromStdin = file === '-';
      if (fromStdin && process.stdin.isTTY === true) throw new OcmError('OCM_E_USAGE', 'an export is binary and stdin is a terminal', { hint: 'pipe it in (ocm export alice -o - | ocm import -), or name the file' });
      const { importUser } = await transferOps();
      const bar = progress(io);
      const key = opts.name ?? 'import';
      const interrupts = guardInterrupts(io, 'taking the import back');
      const result = await importUser({ ...ctx, engine: await makeEngine() }, fromStdin ? 'stdin' : resolve(file), {
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(fromStdin ? { input: process.stdin } : {}),
        start: opts.start,
        onStep: (words) => bar.phase(key, words),
        onHealth: bar.health,
        signal: interrupts.signal,
      }).finally(() => {
        interrupts.release();
        bar.done();
      });
      await syncNginx(cmd, io);
      const renamed = result.name === result.exportedAs ? '' : ` (exported as ${result.exportedAs})`;
      io.err(`imported ${result.name}${renamed} on 127.0.0.1:${result.port}, state of ${result.exportedAt}${result.started ? '; the gateway is healthy' : '; not started (`ocm start ' + result.name + '`)'}`);
      if (result.group !== undefined) io.err(groupLine(result.name, result.group, result.ownBudget));
      if (result.envKeys.length > 0) io.err(`note: set again what stayed behind: ${result.envKeys.map((k) => `--env ${k}=...`).join(' ')} (ocm set ${result.name})`);
      io.out(`${result.name}: token rotated: run \`ocm token ${result.name}\` to print it`);
    });
}
