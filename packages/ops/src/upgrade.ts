// `ocm upgrade`: one user at a time onto a new image, gated on health, with
// the engine rolling back a user whose new gateway does not come up. Only
// users that came up healthy are recorded on the new image in ocm.yaml.
import { OcmError, validateManifest, type Manifest } from '@ocm/core';
import { upgradeUser, type HealthProgress, type PullProgress, type UpgradeReport } from '@ocm/engine';
import { currentPlan, selectUsers } from './current-plan.js';
import { editRoot } from './edit-pipeline.js';
import type { RuntimeContext } from './runtime-context.js';

export interface UpgradeOpsOptions {
  image?: string;
  onPull?: (image: string, progress: PullProgress) => void;
  onHealth?: (progress: HealthProgress) => void;
  onReport?: (report: UpgradeReport) => void;
  /** A user's upgrade begins. */
  onStep?: (user: string, words: string) => void;
}

function withImage(manifest: Manifest, names: ReadonlySet<string>, image: string, all: boolean): Manifest {
  if (all) return { ...manifest, settings: { ...manifest.settings, image }, users: manifest.users.map(({ image: _drop, ...u }) => u) };
  return { ...manifest, users: manifest.users.map((u) => (names.has(u.name) ? { ...u, image } : u)) };
}

export async function upgrade(ctx: RuntimeContext, names: readonly string[], options: UpgradeOpsOptions = {}): Promise<UpgradeReport[]> {
  await ctx.engine.ping();
  const { manifest, plan } = await currentPlan(ctx);
  const targets = selectUsers(plan, names).filter((u) => u.enabled);
  const image = validateManifest({ ...manifest, settings: { ...manifest.settings, image: options.image ?? manifest.settings.image } }).settings.image;
  // Re-pull the tag even when present, so `ocm upgrade` alone picks up a moved :latest.
  await ctx.engine.pullImage(image, (p) => options.onPull?.(image, p)).catch(async (error: unknown) => {
    if (!(await ctx.engine.imageExists(image))) throw error;
  });
  const reports: UpgradeReport[] = [];
  const all = names.length === 0;
  for (const target of targets) {
    // Plan the user as they will be on the new image, so labels match the manifest we record.
    const next = withImage(manifest, new Set([target.name]), image, false);
    const rendered = await ctx.root.render(next);
    const [deployment] = selectUsers(rendered.plan, [target.name]);
    if (deployment === undefined) throw new OcmError('OCM_E_INTERNAL', `no deployment for ${target.name}`);
    options.onStep?.(target.name, `moving to ${image}`);
    const report = await upgradeUser(ctx.engine, deployment, image, {
      timeoutMs: manifest.settings.health.timeoutSeconds * 1000,
      ...(options.onHealth === undefined ? {} : { onProgress: options.onHealth }),
    });
    reports.push(report);
    options.onReport?.(report);
  }
  const upgraded = new Set(reports.filter((r) => r.result === 'upgraded').map((r) => r.user));
  if (upgraded.size > 0) {
    await editRoot(ctx, {
      plan: (fresh) => {
        // Users left unchanged already run this image: they count towards "everyone".
        const onImage = reports.filter((r) => r.result !== 'rolled-back').length;
        const everyone = all && onImage === targets.length;
        // No audit line of its own: the one below names every user's result.
        return { next: withImage(fresh, upgraded, image, everyone), result: () => undefined };
      },
    });
  }
  await ctx.root.audit({ actor: ctx.actor, action: 'upgrade', details: { image, results: reports.map((r) => `${r.user}:${r.result}`) } });
  return reports;
}
