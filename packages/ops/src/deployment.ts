// init and render: create a root, and bring its files in line with ocm.yaml.
import { OcmError, defaultCpusFor, validateManifest, type Manifest } from '@ocm/core';
import { ensureAdminToken, type FileChange, type StaleFile } from '@ocm/store';
import type { OpsContext } from './context.js';
import { editRoot } from './edit-pipeline.js';

export interface InitOptions {
  domain?: string; image?: string; proxyMode?: 'embedded' | 'nginx'; listen?: string;
  /** CPUs of Docker's host: a host with fewer than the default 2 gets limits it can give. */
  hostCpus?: number;
  /** swarm: users run as services on the swarm this host manages. */
  engine?: 'docker' | 'swarm';
}

export async function initRoot(ctx: OpsContext, options: InitOptions = {}): Promise<{ manifest: Manifest; changes: FileChange[] }> {
  if (await ctx.root.exists()) {
    throw new OcmError('OCM_E_MANIFEST_EXISTS', `${ctx.root.manifestPath} already exists`);
  }
  const settings: Record<string, unknown> = {};
  if (options.domain !== undefined) settings.domain = options.domain;
  if (options.image !== undefined) settings.image = options.image;
  if (options.engine !== undefined) settings.engine = options.engine;
  if (options.proxyMode !== undefined || options.listen !== undefined) {
    settings.proxy = { ...(options.proxyMode === undefined ? {} : { mode: options.proxyMode }), ...(options.listen === undefined ? {} : { listen: options.listen }) };
  }
  if (options.hostCpus !== undefined && defaultCpusFor(options.hostCpus) < 2) settings.limits = { cpus: defaultCpusFor(options.hostCpus) };
  // Validate before the root is created, so a bad flag leaves nothing behind.
  const manifest = validateManifest({ settings }, undefined, 'ocm init');
  await ctx.root.create();
  let tokenReady = false;
  return editRoot(ctx, {
    read: 'absent',
    plan: () => ({
      next: manifest,
      afterWrite: async () => {
        await ensureAdminToken(ctx.root.path);
        tokenReady = true;
      },
      // A root whose admin token could not be made was not initialised.
      audit: () => (tokenReady ? { action: 'root.init', target: ctx.root.path } : undefined),
      result: ({ changes }) => ({ manifest, changes }),
    }),
  });
}

export interface RenderResult { changes: FileChange[]; stale: StaleFile[] }

export async function renderRoot(ctx: OpsContext, check: boolean): Promise<RenderResult> {
  if (check) {
    const { manifest } = await ctx.root.load();
    const rendered = await ctx.root.render(manifest);
    return { changes: [], stale: await ctx.root.check(rendered) };
  }
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct();
    await ctx.root.rememberUsers(manifest);
    const changes = await ctx.root.apply(await ctx.root.render(manifest));
    if (changes.length > 0) await ctx.root.audit({ actor: ctx.actor, action: 'render', details: { files: changes.map((c) => c.path) } });
    return { changes, stale: [] };
  });
}
