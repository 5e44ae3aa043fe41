// up, down, start, stop, restart: Docker brought in line with ocm.yaml
// through the engine's reconcile. Data directories are never touched here.
import { OcmError, LABEL_ROOT, BACKUP_LOCK, assertRemovalsConfirmed, rootLayout, type DeploymentPlan, type UserDeployment } from '@ocm/core';
import {
  applyReconcile, planReconcile, waitHealthy,
  type HealthProgress, type ObservedContainer, type PullProgress, type ReconcileEvent, type ReconcileOutcome,
} from '@ocm/engine';
import { isDirLocked, type FileChange } from '@ocm/store';
import { currentPlan, selectUsers } from './current-plan.js';
import { ensureImages } from './images.js';
import { ensureNetworkPolicy, removeNetworkPolicy, type PolicyResult } from './network-policy.js';
import type { RuntimeContext } from './runtime-context.js';

export interface LifecycleOptions {
  onEvent?: (event: ReconcileEvent) => void;
  onHealth?: (progress: HealthProgress) => void;
  onPull?: (image: string, progress: PullProgress) => void;
  concurrency?: number;
  /** Wait for /healthz after starting (default true). */
  wait?: boolean;
  /** Stop waiting for health when this aborts (OCM_E_INTERRUPTED); what was started stays started. */
  signal?: AbortSignal;
}

export interface UpOptions extends LifecycleOptions {
  /** Confirms acting on a manifest that lost its users, and removing more than one user's container. */
  yes?: boolean;
  /** false: the caller writes the one audit line of the whole operation (an import, start included). */
  audit?: boolean;
}

export interface UpResult { outcomes: ReconcileOutcome[]; pulled: string[]; skipped: FileChange[]; policy: PolicyResult }

/** Fail with one error naming every user that did not come up. */
export function assertAllOk(outcomes: ReconcileOutcome[]): void {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return;
  const first = failed[0]?.error;
  const names = failed.map((o) => o.action.user).join(', ');
  if (failed.length === 1 && first !== undefined) throw first;
  throw new OcmError(first?.code ?? 'OCM_E_UNHEALTHY', `${failed.length} user(s) failed: ${names}; first: ${first?.message ?? 'unknown'}`, { ...(first === undefined ? {} : { cause: first, hint: first.hint }) });
}

export async function up(ctx: RuntimeContext, names: readonly string[] = [], options: UpOptions = {}): Promise<UpResult> {
  await ctx.engine.ping();
  const yes = options.yes === true;
  // Checked before any file, image, rule or container changes.
  const guard = async (plan: DeploymentPlan): Promise<void> => {
    if (names.length > 0 || yes) return;
    const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: plan.root } });
    const removed = planReconcile(plan.users, actual, { root: plan.root }).filter((a) => a.kind === 'remove' && a.leftover !== true).map((a) => a.user);
    assertRemovalsConfirmed(removed, yes, { file: ctx.root.manifestPath, backup: await ctx.root.backupExists() ? ctx.root.backupPath : undefined });
  };
  const { manifest, plan, skipped } = await currentPlan(ctx, { yes, guard });
  const users = selectUsers(plan, names);
  const pulled = await ensureImages(ctx.engine, users.filter((u) => u.enabled).map((u) => u.container.image), options.onPull);
  // Before any container starts: the rules match the planned subnets, so a
  // gateway is never up without them (and a rebuilt DOCKER-USER gets its jump back).
  const policy = await ensureNetworkPolicy(ctx, manifest);
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: plan.root } });
  await thawAbandoned(ctx, actual);
  const wanted = new Set(users.map((u) => u.container.name));
  // With names, touch only those users; without, also remove users no longer in the manifest.
  const actions = planReconcile(users, actual, { root: plan.root })
    .filter((a) => names.length === 0 || ('desired' in a && wanted.has(a.desired.container.name)));
  const timeoutMs = manifest.settings.health.timeoutSeconds * 1000;
  const outcomes = await applyReconcile(ctx.engine, actions, {
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    health: options.wait === false ? false : { timeoutMs, ...(options.onHealth === undefined ? {} : { onProgress: options.onHealth }), ...(options.signal === undefined ? {} : { signal: options.signal }) },
  });
  const changed = outcomes.filter((o) => o.action.kind !== 'leave').map((o) => `${o.action.kind}:${o.action.user}${o.ok ? '' : ':failed'}`);
  if (changed.length > 0 && options.audit !== false) await ctx.root.audit({ actor: ctx.actor, action: 'up', details: { actions: changed } });
  return { outcomes, pulled, skipped, policy };
}

/**
 * For a daemon that starts: its backups may have died holding a freeze (the
 * process was killed). Thaw every paused gateway of this root; returns their names.
 */
export async function thawPaused(ctx: RuntimeContext): Promise<string[]> {
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.root.path } });
  const paused = actual.filter((c) => c.state === 'paused').map((c) => c.name);
  await thawAbandoned(ctx, actual);
  return paused.filter((name) => actual.find((c) => c.name === name)?.state === 'running');
}

/**
 * A backup killed while it held a gateway frozen leaves it paused for good.
 * Thaw it, unless a backup of that user is running now (it holds the lock).
 */
async function thawAbandoned(ctx: RuntimeContext, actual: ObservedContainer[]): Promise<void> {
  for (const c of actual) {
    if (c.state !== 'paused' || c.user === undefined) continue;
    // A live backup holds its freeze for seconds and then thaws itself; a dead
    // one's lock turns stale after 10 s. Wait for either, then decide.
    const deadline = Date.now() + 15_000;
    const backups = rootLayout(ctx.root.path).user(c.user).backups;
    while (Date.now() < deadline && (await isDirLocked(backups, BACKUP_LOCK))) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if ((await ctx.engine.find(c.name))?.state !== 'paused') continue;
    if (await isDirLocked(backups, BACKUP_LOCK)) continue;
    await ctx.engine.unpause(c.name);
    c.state = 'running';
    await ctx.root.audit({ actor: ctx.actor, action: 'unpause', target: c.user, details: { reason: 'left paused by an interrupted backup' } });
  }
}

/**
 * Stop and remove the users' containers and networks (all users without
 * names, and then the network policy too). Data stays. Returns the names of
 * the containers removed.
 */
export async function down(ctx: RuntimeContext, names: readonly string[] = []): Promise<string[]> {
  await ctx.engine.ping();
  const { manifest, plan } = await currentPlan(ctx);
  const users = selectUsers(plan, names);
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: plan.root } });
  const targets = names.length === 0 ? actual : actual.filter((c) => users.some((u) => u.container.name === c.name));
  const removed: string[] = [];
  for (const c of targets) {
    await ctx.engine.stop(c.name, { timeoutSeconds: 10 }).catch(() => undefined);
    await ctx.engine.remove(c.name);
    for (const network of c.networks) await ctx.engine.removeNetworkIfUnused(network);
    removed.push(c.name);
  }
  if (removed.length > 0) await ctx.root.audit({ actor: ctx.actor, action: 'down', details: { users: removed } });
  if (names.length === 0) await removeNetworkPolicy(ctx, manifest);
  return removed;
}

/** Remove a user's container and network after they left the manifest. */
export async function removeContainer(ctx: RuntimeContext, name: string): Promise<string[]> {
  const actual = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.root.path, 'ocm.user': name } });
  for (const c of actual) {
    await ctx.engine.stop(c.name, { timeoutSeconds: 10 }).catch(() => undefined);
    await ctx.engine.remove(c.name);
    for (const network of c.networks) await ctx.engine.removeNetworkIfUnused(network);
  }
  return actual.map((c) => c.name);
}

async function userFor(ctx: RuntimeContext, name: string): Promise<{ user: UserDeployment; timeoutMs: number }> {
  const { manifest, plan } = await currentPlan(ctx);
  const [user] = selectUsers(plan, [name]);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`);
  return { user, timeoutMs: manifest.settings.health.timeoutSeconds * 1000 };
}

export async function startUser(ctx: RuntimeContext, name: string, options: LifecycleOptions = {}): Promise<ReconcileOutcome[]> {
  const { user } = await userFor(ctx, name);
  if (!user.enabled) throw new OcmError('OCM_E_USAGE', `${name} is disabled`, { hint: `enable them first: ocm set ${name} --enable` });
  const { outcomes } = await up(ctx, [name], options);
  assertAllOk(outcomes);
  await ctx.root.audit({ actor: ctx.actor, action: 'user.start', target: name });
  return outcomes;
}

export async function stopUser(ctx: RuntimeContext, name: string): Promise<void> {
  await ctx.engine.ping();
  const { user } = await userFor(ctx, name);
  await ctx.engine.stop(user.container.name, { timeoutSeconds: 10 });
  await ctx.root.audit({ actor: ctx.actor, action: 'user.stop', target: name });
}

export async function restartUser(ctx: RuntimeContext, name: string, options: LifecycleOptions = {}): Promise<void> {
  await ctx.engine.ping();
  const { user, timeoutMs } = await userFor(ctx, name);
  if (!user.enabled) throw new OcmError('OCM_E_USAGE', `${name} is disabled`, { hint: `enable them first: ocm set ${name} --enable` });
  await ctx.engine.restart(user.container.name, { timeoutSeconds: 10 });
  await ctx.root.audit({ actor: ctx.actor, action: 'user.restart', target: name });
  if (options.wait !== false) await waitHealthy(ctx.engine, user, { timeoutMs, ...(options.onHealth === undefined ? {} : { onProgress: options.onHealth }) });
}
