// Render and write the root's files under the lock, then hand back the plan:
// containers are only ever created from files that are on disk.
import { OcmError, type DeploymentPlan, type Manifest, type UserDeployment } from '@ocm/core';
import type { FileChange } from '@ocm/store';
import type { OpsContext } from './context.js';

/** skipped: users' files ocm left alone (e.g. an openclaw.json that is a link), each with its reason. */
export interface CurrentPlan { manifest: Manifest; plan: DeploymentPlan; skipped: FileChange[] }

export interface CurrentPlanOptions {
  /** Act on a manifest that lost its users (see DeploymentRoot.loadToAct). */
  yes?: boolean;
  /** Runs on the plan before any file is written; a refusal here leaves the root as it was. */
  guard?: (plan: DeploymentPlan) => Promise<void>;
}

export async function currentPlan(ctx: OpsContext, options: CurrentPlanOptions = {}): Promise<CurrentPlan> {
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct({ yes: options.yes === true });
    const rendered = await ctx.root.render(manifest);
    await options.guard?.(rendered.plan);
    await ctx.root.rememberUsers(manifest);
    const changes = await ctx.root.apply(rendered);
    return { manifest, plan: rendered.plan, skipped: changes.filter((c) => c.change === 'skipped') };
  });
}

/** The named users' deployments (or manifest entries: anything with a name), all when names is empty; unknown names refused. */
export function selectUsers<T extends { name: string } = UserDeployment>(from: DeploymentPlan | readonly T[], names: readonly string[]): T[] {
  const users = ('users' in from ? from.users : from) as readonly T[];
  if (names.length === 0) return [...users];
  return names.map((name) => {
    const user = users.find((u) => u.name === name);
    if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`, { details: { name } });
    return user;
  });
}
