// init and render.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { OcmError } from '@ocm/core';
import { opsContext } from '../context.js';
import type { Io } from '../io.js';
import { describeChanges } from './describe-changes.js';

export function registerDeploymentCommands(program: Command, io: Io): void {
  program.command('init')
    .description('create a deployment root: ocm.yaml with defaults, nginx/ocm.conf, backups/')
    .option('--domain <domain>', 'users are served at <name>.<domain> (default: localhost)')
    .option('--image <image>', 'gateway image, pinned by tag or digest')
    .option('--proxy <mode>', 'embedded (default) or nginx')
    .option('--listen <address>', 'embedded proxy address (default 127.0.0.1:8080)')
    .option('--engine <engine>', 'docker (default): a container per user on this host; swarm: a service per user on the swarm this host manages')
    .addHelpText('after', '\nExamples:\n  ocm init                                  # /opt/ocm, http://<name>.localhost:8080\n  ocm --root /srv/ocm init --domain your-ai.com --proxy nginx\n  ocm init --engine swarm                   # on a swarm manager (`docker swarm init`)')
    .action(async (opts: { domain?: string; image?: string; proxy?: string; listen?: string; engine?: string }, cmd: Command) => {
      if (opts.proxy !== undefined && opts.proxy !== 'embedded' && opts.proxy !== 'nginx') {
        throw new OcmError('OCM_E_USAGE', `--proxy ${JSON.stringify(opts.proxy)} is not a proxy mode`, { hint: 'use --proxy embedded or --proxy nginx' });
      }
      if (opts.engine !== undefined && opts.engine !== 'docker' && opts.engine !== 'swarm') {
        throw new OcmError('OCM_E_USAGE', `--engine ${JSON.stringify(opts.engine)} is not an engine`, { hint: 'use --engine docker or --engine swarm' });
      }
      const engineKind = opts.engine === 'swarm' ? 'swarm' : 'docker';
      const ctx = opsContext(cmd, io);
      const { initRoot } = await import('@ocm/ops/deployment');
      const { makeEngine } = await import('../engine-factory.js');
      const engine = await makeEngine(engineKind);
      // A swarm root needs a manager to talk to before anything is written.
      if (engineKind === 'swarm') await engine.ping();
      // Limits that fit Docker's host (this machine's CPUs when Docker does not answer yet).
      const hostCpus = (await engine.capacity().catch(() => undefined))?.cpus ?? availableParallelism();
      const { manifest } = await initRoot(ctx, { domain: opts.domain, image: opts.image, listen: opts.listen, hostCpus, ...(opts.proxy === undefined ? {} : { proxyMode: opts.proxy }), ...(engineKind === 'swarm' ? { engine: 'swarm' as const } : {}) });
      io.out(`initialised ${ctx.root.path} (domain ${manifest.settings.domain}, ${manifest.settings.proxy.mode} proxy${engineKind === 'swarm' ? ', swarm engine' : ''})\nnext: ocm add <name>`);
    });

  program.command('render')
    .description('write docker-compose.yml, env files and nginx confs from ocm.yaml')
    .option('--check', 'change nothing; exit 1 listing the files that are out of date')
    .addHelpText('after', '\nExamples:\n  ocm render\n  ocm render --check   # in CI or after editing ocm.yaml by hand')
    .action(async (opts: { check?: boolean }, cmd: Command) => {
      const { renderRoot } = await import('@ocm/ops/deployment');
      const result = await renderRoot(opsContext(cmd, io), opts.check === true);
      if (opts.check === true) {
        if (result.stale.length === 0) return io.out('rendered files are up to date');
        io.out(result.stale.map((s) => `${s.problem.padEnd(7)} ${s.path}`).join('\n'));
        throw new OcmError('OCM_E_RENDER_STALE', `${result.stale.length} rendered file(s) differ from ocm.yaml`);
      }
      io.out(describeChanges(result.changes));
      const { syncNginx } = await import('../nginx-sync.js');
      await syncNginx(cmd, io);
    });
}
