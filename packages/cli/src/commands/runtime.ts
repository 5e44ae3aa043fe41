// up, down, start, stop, restart, logs, status, upgrade, doctor.
import type { Command } from 'commander';
import { describeChanges } from './describe-changes.js';
import { OcmError, containerName, formatSize, validateManifest } from '@ocm/core';
import type { UserStatus } from '@ocm/ops';

// Loaded when a command runs: dockerode and friends cost start-up time.
const lifecycle = () => import('@ocm/ops/lifecycle');
import { opsContext } from '../context.js';
import { makeEngine } from '../engine-factory.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';
import { progress } from '../progress.js';

async function runtime(cmd: Command, io: Io) {
  return { ...opsContext(cmd, io), engine: await makeEngine() };
}

const dur = (s: number | undefined): string => {
  if (s === undefined) return '-';
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
};

function statusRow(s: UserStatus): string[] {
  return [
    s.name, s.enabled ? s.state : `${s.state} (disabled)`, s.health, dur(s.uptimeSeconds), String(s.restarts),
    s.egress.policy === 'open' ? 'open' : s.egress.allow.length === 0 ? 'restricted' : `restricted+${s.egress.allow.length}`,
    s.cpuPercent === undefined ? '-' : `${s.cpuPercent}%/${s.cpuLimit}`,
    `${s.memoryBytes === undefined ? '-' : formatMem(s.memoryBytes)}/${formatSize(s.memoryLimitBytes)}`,
    `${s.pids ?? '-'}/${s.pidsLimit}`, String(s.port), s.image,
  ];
}

const formatMem = (b: number): string => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)}g` : `${Math.round(b / 1024 ** 2)}m`);

export function registerRuntimeCommands(program: Command, io: Io): void {
  program.command('up')
    .description('bring containers in line with ocm.yaml: create missing, recreate changed, leave the rest running')
    .argument('[names...]', 'only these users (default: all, and remove containers of users no longer listed)')
    .option('--no-wait', 'do not wait for /healthz')
    .option('--yes', 'act on an ocm.yaml that lost most of its users, and remove more than one user\'s container')
    .addHelpText('after', '\nExamples:\n  ocm up\n  ocm up alice bob\n  ocm up --yes   # after deleting several users from ocm.yaml by hand')
    .action(async (names: string[], opts: { wait: boolean; yes?: boolean }, cmd: Command) => {
      const { up, assertAllOk } = await lifecycle();
      const bar = progress(io);
      const { outcomes, pulled, skipped, policy } = await up(await runtime(cmd, io), names, { wait: opts.wait, yes: opts.yes === true, onEvent: bar.event, onHealth: bar.health, onPull: bar.pull }).finally(() => bar.done());
      if (skipped.length > 0) io.err(describeChanges(skipped));
      for (const image of pulled) io.err(`pulled ${image}`);
      if (policy.warning !== undefined) io.err(`warning: ${policy.warning}`);
      for (const c of policy.changes) io.err(`network policy: ${c.action} ${c.chain} (${c.detail})`);
      for (const o of outcomes) io.out(`${o.action.user.padEnd(16)} ${o.ok ? o.action.kind : `${o.action.kind} FAILED`}: ${o.ok ? o.action.reason : o.error?.message ?? ''}`);
      if (outcomes.length === 0) io.out('nothing to do');
      const { syncNginx } = await import('../nginx-sync.js');
      if (outcomes.every((o) => o.ok)) await syncNginx(cmd, io);
      else await syncNginx(cmd, io).catch(() => undefined);
      assertAllOk(outcomes);
    });

  program.command('down')
    .description("stop and remove containers (all, or the named users'); data stays")
    .argument('[names...]', 'only these users')
    .addHelpText('after', '\nExamples:\n  ocm down\n  ocm down bob')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const { down } = await lifecycle();
      const removed = await down(await runtime(cmd, io), names);
      io.out(removed.length === 0 ? 'no containers to remove' : removed.map((n) => `removed ${n}`).join('\n'));
    });

  for (const [verb, text] of [['start', "start a user's gateway and wait until it is healthy"], ['stop', "stop a user's gateway (it stays stopped until start/up)"], ['restart', "restart a user's gateway and wait until it is healthy"]] as const) {
    const command = program.command(verb)
      .description(text)
      .argument('<name>', 'user name');
    if (verb !== 'stop') command.option('--no-wait', 'do not wait until the gateway is healthy');
    command
      .addHelpText('after', `\nExample:\n  ocm ${verb} alice`)
      .action(async (name: string, opts: { wait?: boolean }, cmd: Command) => {
        const { startUser, stopUser, restartUser } = await lifecycle();
        const ctx = await runtime(cmd, io);
        const bar = progress(io);
        const wait = opts.wait !== false;
        try {
          if (verb === 'start') await startUser(ctx, name, { wait, onHealth: bar.health, onEvent: bar.event });
          else if (verb === 'stop') await stopUser(ctx, name);
          else await restartUser(ctx, name, { wait, onHealth: bar.health });
        } finally {
          bar.done();
        }
        io.out(`${verb === 'stop' ? 'stopped' : verb === 'start' ? 'started' : 'restarted'} ${name}`);
      });
  }

  program.command('logs')
    .description("show a user's gateway log")
    .argument('<name>', 'user name')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'only the last n lines', '200')
    .addHelpText('after', '\nExamples:\n  ocm logs alice --tail 50\n  ocm logs alice -f')
    .action(async (name: string, opts: { follow?: boolean; tail: string }, cmd: Command) => {
      const tail = Number(opts.tail);
      if (!Number.isInteger(tail) || tail < 0) throw new OcmError('OCM_E_USAGE', `--tail ${JSON.stringify(opts.tail)} is not a line count`, { hint: 'use --tail 100' });
      const ctx = await runtime(cmd, io);
      const { manifest } = await ctx.root.load();
      if (!manifest.users.some((u) => u.name === name)) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`);
      const container = containerName(manifest, name);
      if (opts.follow === true) {
        const stream = await ctx.engine.logs(container, { tail, follow: true });
        await new Promise<void>((resolve, reject) => {
          stream.on('data', (chunk: Buffer) => process.stdout.write(chunk));
          stream.on('end', resolve);
          stream.on('error', reject);
          process.once('SIGINT', () => { stream.destroy(); resolve(); });
        });
      } else {
        const text = await ctx.engine.logs(container, { tail });
        if (text.length > 0) io.out(text.replace(/\n$/, ''));
      }
    });

  program.command('status')
    .description('state, health, uptime, restarts, CPU, memory and pids of every gateway')
    .argument('[names...]', 'only these users')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  ocm status\n  ocm status --json')
    .action(async (names: string[], opts: { json?: boolean }, cmd: Command) => {
      const { statusAll } = await import('@ocm/ops/status');
      const statuses = await statusAll(await runtime(cmd, io), names);
      if (opts.json === true) return io.out(json(statuses));
      if (statuses.length === 0) return io.out('no users yet: add one with `ocm add <name>`');
      // A swarm root shows where each user runs.
      const swarm = statuses.some((s) => s.node !== undefined);
      const headers = ['NAME', 'STATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'NETWORK', 'CPU', 'MEMORY', 'PIDS', 'PORT', 'IMAGE'];
      io.out(swarm
        ? table([...headers.slice(0, 2), 'NODE', ...headers.slice(2)], statuses.map((s) => { const row = statusRow(s); return [...row.slice(0, 2), s.node ?? '-', ...row.slice(2)]; }))
        : table(headers, statuses.map(statusRow)));
      // Why a running gateway is not usable, under the table: the column has no room for it.
      const { usableFix } = await import('@ocm/ops/usable');
      for (const s of statuses.filter((x) => x.health === 'refusing' || x.health === 'unhealthy')) {
        io.out(`\n${s.name}: ${s.healthDetail ?? s.health}${s.health === 'refusing' ? `\n  fix: ${usableFix(s.name, s.healthDetail ?? '')}` : ''}`);
      }
      // Gateways can be fine while nothing serves them to browsers: say it once.
      const silent = statuses.map((x) => /the proxy \((.*?)\) does not answer \((.*?)\)/.exec(x.healthDetail ?? '')).find((m) => m !== null);
      if (silent) io.out(`\nnote: nothing answers at ${silent[1]} (${silent[2]}), where browsers reach the users; \`ocm daemon\` runs the proxy (in nginx mode: start nginx)`);
    });

  program.command('upgrade')
    .description('move gateways to a new image one user at a time; roll back any that do not become healthy')
    .argument('[names...]', 'only these users (default: all)')
    .option('--image <image>', 'the new image (default: re-pull settings.image)')
    .addHelpText('after', '\nExamples:\n  ocm upgrade --image ghcr.io/openclaw/openclaw:2026.10.1\n  ocm upgrade alice --image ghcr.io/openclaw/openclaw@sha256:...')
    .action(async (names: string[], opts: { image?: string }, cmd: Command) => {
      if (opts.image !== undefined) validateManifest({ settings: { image: opts.image } }, undefined, '--image');
      const { upgrade } = await import('@ocm/ops/upgrade');
      const bar = progress(io);
      const reports = await upgrade(await runtime(cmd, io), names, {
        ...(opts.image === undefined ? {} : { image: opts.image }), onHealth: bar.health, onPull: bar.pull, onStep: (user, words) => bar.phase(user, words),
        onReport: (r) => {
          bar.finish(r.user, r.result);
          if (r.result === 'unchanged') return bar.above(() => io.out(`${r.user.padEnd(16)} ${r.result.padEnd(11)} ${r.to}: already running this image; not restarted`));
          bar.above(() => io.out(`${r.user.padEnd(16)} ${r.result.padEnd(11)} ${r.from} -> ${r.to} (${(r.durationMs / 1000).toFixed(1)}s)${r.error === undefined ? '' : `: ${r.error.message}`}`));
        },
      }).finally(() => bar.done());
      const failed = reports.filter((r) => r.result === 'rolled-back');
      if (failed.length > 0) throw new OcmError('OCM_E_UPGRADE_FAILED', `${failed.length} of ${reports.length} user(s) rolled back: ${failed.map((r) => r.user).join(', ')}`);
    });

  program.command('doctor')
    .description('check Docker, images, containers, hardening and file permissions; every finding with a fix')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  ocm doctor\n  ocm doctor --json')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = await runtime(cmd, io);
      const { nginxVersion, nginxTest } = await import('../nginx-version.js');
      const { doctor } = await import('@ocm/ops/doctor');
      const findings = await doctor(ctx, { dockerVersion: () => ctx.engine.version(), nginxVersion, nginxTest });
      const bad = findings.filter((f) => !f.ok);
      if (opts.json === true) io.out(json(findings));
      else {
        for (const f of findings) io.out(`${f.ok ? (f.warn === true ? 'warn' : 'ok  ') : 'FAIL'} ${f.scope.padEnd(10)} ${f.check.padEnd(20)} ${f.detail}${f.fix === undefined ? '' : `\n     fix: ${f.fix}`}`);
        io.out(bad.length === 0 ? `\nall ${findings.length} checks passed` : `\n${bad.length} of ${findings.length} checks failed`);
      }
      if (bad.length > 0) throw new OcmError('OCM_E_USAGE', `doctor found ${bad.length} problem(s)`, { hint: 'apply the fixes listed above' });
    });
}
