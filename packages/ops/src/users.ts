// Manifest edits: each one validates fully, renders, and only then writes,
// all under the root lock, so a refusal leaves the root byte-identical.
import {
  OcmError, allocatePort, assertEnvEntry, assertUserName, checkManifestRules, parseCpus, parsePids, parseSize,
  formatSize, userOrigin, effectiveLimits, isSecretKey, validateManifest,
  formatEgressEntry, parseEgressEntry, canonicalJson, sameEgressEntry, userEgress, assertLimitsFitHost, parseUsd, budgetLimits, joinGroup, leaveGroups,
  type HostCapacity, type Manifest, type User, type UserEgress,
} from '@ocm/core';
import { keptUserState, purgeUserTree, removeRootDir, type AuditEntry, type FileChange } from '@ocm/store';
import type { OpsContext } from './context.js';

export interface LimitOptions {
  cpus?: string | number; memory?: string; pids?: string | number;
  /**
   * What Docker's host has, asked before anything is written so a limit the
   * engine would refuse never reaches ocm.yaml or takes a running user down.
   * Undefined (or a call that yields undefined: Docker unreachable) skips it.
   */
  hostCapacity?: () => Promise<HostCapacity | undefined>;
}

/** Refuses the user's effective limits when the engine's host cannot give them; nothing is written yet. */
async function assertFitsHost(options: LimitOptions, manifest: Manifest, user: User): Promise<void> {
  if (options.hostCapacity === undefined || !user.enabled) return;
  const host = await options.hostCapacity();
  if (host !== undefined) assertLimitsFitHost(user.name, effectiveLimits(manifest, user), host);
}

/** Work a hook started ahead of the write, and how to take it back should the write fail. */
export interface Prepared {
  undo(): Promise<void>;
}

export interface AddOptions extends LimitOptions {
  env?: Record<string, string>;
  /**
   * Runs after every check passed and before the first write (e.g. Docker
   * reachable, image present). What it returns is undone if the write fails.
   */
  beforeWrite?: (manifest: Manifest, user: User) => Promise<Prepared | void>;
  /**
   * Start from an empty state when users/<name> was kept by an earlier
   * `remove` without --purge: that tree is deleted first (after
   * removeContainer, which must be given then), never reused.
   */
  fresh?: boolean;
  removeContainer?: () => Promise<string[]>;
  /** Fields of an imported user's entry kept as they were (`ocm import`); validated with the rest. */
  entry?: Partial<Pick<User, 'enabled' | 'image' | 'egress' | 'budget'>>;
  /** The model group to join, if this root has one of that name (an imported user's group at the source). */
  group?: string;
  /** false: the caller records the whole operation in the audit log itself (`ocm import`). */
  audit?: boolean;
}

export interface AddResult extends EditResult {
  /** users/<name>/state of an earlier user of this name is reused (her chats, devices, config). */
  reusedState: boolean;
  /** An earlier user's tree deleted by --fresh. */
  freshened: boolean;
  /** options.group, and whether the user joined it (false: this root has no such group). */
  group?: { name: string; joined: boolean };
}

export interface SetOptions extends LimitOptions {
  env?: Record<string, string>;
  unsetEnv?: string[];
  enabled?: boolean;
  /** Network policy openings for this user: address or CIDR, optional port. */
  allow?: string[];
  disallow?: string[];
  /** The user's own model budget in US dollars; `budget: false` removes it (the default applies). */
  dailyBudget?: string | number;
  monthlyBudget?: string | number;
  budget?: boolean;
}

/** The user's own budget after --daily-budget, --monthly-budget and --no-budget. */
function nextBudget(current: User['budget'], options: SetOptions): User['budget'] {
  if (options.budget === false) {
    if (options.dailyBudget !== undefined || options.monthlyBudget !== undefined) throw new OcmError('OCM_E_USAGE', '--no-budget cannot be combined with --daily-budget or --monthly-budget', { hint: 'remove the budget, or set its amounts' });
    return undefined;
  }
  const next = { ...(current ?? {}) };
  if (options.dailyBudget !== undefined) next.daily = parseUsd(options.dailyBudget, '--daily-budget');
  if (options.monthlyBudget !== undefined) next.monthly = parseUsd(options.monthlyBudget, '--monthly-budget');
  return next;
}

/** The user's allow-list after --allow and --disallow; a --disallow of an entry they do not have is refused. */
function egressAllow(name: string, current: readonly string[], allow: readonly string[], disallow: readonly string[]): string[] {
  // Parsed up front: a bad entry is refused before anything is written.
  const added = allow.map((e) => formatEgressEntry(parseEgressEntry(e)));
  for (const e of disallow) parseEgressEntry(e);
  let next = [...current];
  for (const entry of disallow) {
    if (!next.some((e) => sameEgressEntry(e, entry))) {
      throw new OcmError('OCM_E_EGRESS_INVALID', `user ${JSON.stringify(name)} has no allow entry ${JSON.stringify(entry)}`, { hint: `run \`ocm show ${name}\` to see their allow-list` });
    }
    next = next.filter((e) => !sameEgressEntry(e, entry));
  }
  for (const entry of added) if (!next.some((e) => sameEgressEntry(e, entry))) next.push(entry);
  return next;
}

export interface EditResult { manifest: Manifest; user: User | undefined; changes: FileChange[] }

function findUser(manifest: Manifest, name: string): User {
  const user = manifest.users.find((u) => u.name === name);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`, { details: { name } });
  return user;
}

/** Normalise limits given as text into manifest form ("1.5", "512m", 256). */
function limitFields(options: LimitOptions): Partial<Pick<User, 'cpus' | 'memory' | 'pids'>> {
  const out: Partial<Pick<User, 'cpus' | 'memory' | 'pids'>> = {};
  if (options.cpus !== undefined) out.cpus = parseCpus(options.cpus);
  if (options.memory !== undefined) out.memory = formatSize(parseSize(options.memory));
  if (options.pids !== undefined) out.pids = parsePids(options.pids);
  return out;
}

/** Validate, render and write a new manifest; returns what changed on disk. */
async function commit(ctx: OpsContext, next: Manifest, rotate?: ReadonlySet<string>): Promise<FileChange[]> {
  const checked = validateManifest(next);
  checkManifestRules(checked);
  const rendered = await ctx.root.render(checked, rotate);
  await ctx.root.saveManifest(checked);
  return ctx.root.apply(rendered);
}

export async function addUser(ctx: OpsContext, name: string, options: AddOptions = {}): Promise<AddResult> {
  assertUserName(name);
  const limits = limitFields(options);
  for (const [k, v] of Object.entries(options.env ?? {})) assertEnvEntry(k, v);
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct();
    if (manifest.users.some((u) => u.name === name)) {
      throw new OcmError('OCM_E_USER_EXISTS', `user ${JSON.stringify(name)} already exists`, { details: { name } });
    }
    const user: User = { name, port: allocatePort(manifest), enabled: true, ...options.entry, ...limits, env: { ...(options.env ?? {}) } };
    const added: Manifest = { ...manifest, users: [...manifest.users, user] };
    const grouped = options.group === undefined ? undefined : joinGroup(added, name, options.group);
    const next = grouped ?? added;
    checkManifestRules(validateManifest(next));
    await assertFitsHost(options, next, user);
    const kept = await keptUserState(ctx.root.path, name);
    if (kept && options.fresh === true && options.removeContainer === undefined) throw new OcmError('OCM_E_INTERNAL', '--fresh needs a way to remove a leftover container first');
    const prepared = await options.beforeWrite?.(next, user);
    let changes: FileChange[];
    let freshened = false;
    try {
      if (kept && options.fresh === true) {
        // Nothing of the old tenant may run while her tree goes.
        await options.removeContainer?.();
        await purgeUserTree(ctx.root.path, name, stampNow());
        freshened = true;
      }
      changes = await commit(ctx, next);
    } catch (error) {
      await prepared?.undo().catch(() => undefined);
      throw error;
    }
    if (options.audit !== false) {
      await ctx.root.audit({ actor: ctx.actor, action: 'user.add', target: name, details: { port: user.port, ...limits, envKeys: Object.keys(user.env), ...(kept ? { state: freshened ? 'fresh' : 'reused' } : {}) } });
    }
    const group = options.group === undefined ? {} : { group: { name: options.group, joined: grouped !== undefined } };
    return { manifest: next, user, changes, reusedState: kept && !freshened, freshened, ...group };
  });
}

/** A set's result: also the manifest it replaced, to put back should Docker refuse the change. */
export interface SetResult extends EditResult { previous: Manifest }

export async function setUser(ctx: OpsContext, name: string, options: SetOptions): Promise<SetResult> {
  const limits = limitFields(options);
  for (const [k, v] of Object.entries(options.env ?? {})) assertEnvEntry(k, v);
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct();
    const current = findUser(manifest, name);
    const env = { ...current.env, ...(options.env ?? {}) };
    for (const key of options.unsetEnv ?? []) {
      if (!(key in env)) throw new OcmError('OCM_E_ENV_INVALID', `user ${JSON.stringify(name)} has no env ${JSON.stringify(key)}`, { hint: `run \`ocm show ${name}\` to see the env keys` });
      delete env[key];
    }
    const user: User = { ...current, ...limits, env, ...(options.enabled === undefined ? {} : { enabled: options.enabled }) };
    if (options.allow !== undefined || options.disallow !== undefined) {
      const allow = egressAllow(name, current.egress?.allow ?? [], options.allow ?? [], options.disallow ?? []);
      if (allow.length === 0) delete user.egress;
      else user.egress = { allow };
    }
    if (options.budget === false || options.dailyBudget !== undefined || options.monthlyBudget !== undefined) {
      const budget = nextBudget(current.budget, options);
      if (budget === undefined) delete user.budget;
      else user.budget = budget;
    }
    const next: Manifest = { ...manifest, users: manifest.users.map((u) => (u.name === name ? user : u)) };
    await assertFitsHost(options, next, user);
    const changes = await commit(ctx, next);
    await ctx.root.audit({ actor: ctx.actor, action: 'user.set', target: name, details: { ...limits, envKeys: Object.keys(options.env ?? {}), unsetEnv: options.unsetEnv, enabled: options.enabled, allow: options.allow, disallow: options.disallow, budget: user.budget ?? null } });
    return { manifest: next, user, changes, previous: manifest };
  });
}

/**
 * Put `previous` back as ocm.yaml (and its files) after the change that wrote
 * `written` was refused by Docker; false, and nothing written, when the
 * manifest has been edited since.
 */
export async function revertEdit(ctx: OpsContext, name: string, written: Manifest, previous: Manifest, reason: string): Promise<boolean> {
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.load();
    if (canonicalJson(manifest) !== canonicalJson(validateManifest(written))) return false;
    await commit(ctx, previous);
    await ctx.root.audit({ actor: ctx.actor, action: 'user.set.reverted', target: name, details: { reason } });
    return true;
  });
}

export interface RemoveOptions {
  purge?: boolean;
  yes?: boolean;
  /**
   * Stops and removes the user's container; required for a purge, which runs
   * it before anything is deleted so nothing of the tenant runs meanwhile.
   */
  removeContainer?: () => Promise<string[]>;
  /** Also take the user out of the model groups they are in (an import taken back). */
  leaveGroups?: boolean;
  /** false: the caller records the whole operation in the audit log itself (an import taken back). */
  audit?: boolean;
}

const stampNow = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export async function removeUser(ctx: OpsContext, name: string, options: RemoveOptions = {}): Promise<EditResult & { purged: boolean; containers: string[] }> {
  if (options.purge === true && options.yes !== true) {
    throw new OcmError('OCM_E_CONFIRM_REQUIRED', `--purge deletes ${name}'s state, config and backups for good`, { hint: `repeat with --purge --yes to delete them` });
  }
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct();
    findUser(manifest, name);
    const remaining: Manifest = { ...manifest, users: manifest.users.filter((u) => u.name !== name) };
    const next = options.leaveGroups === true ? leaveGroups(remaining, name) : remaining;
    const audit = options.audit === false ? () => Promise.resolve() : (entry: AuditEntry) => ctx.root.audit(entry);
    if (options.purge !== true) {
      const changes = await commit(ctx, next);
      await audit({ actor: ctx.actor, action: 'user.remove', target: name });
      return { manifest: next, user: undefined, changes, purged: false, containers: [] };
    }
    if (options.removeContainer === undefined) throw new OcmError('OCM_E_INTERNAL', 'a purge needs a way to remove the container first');
    checkManifestRules(validateManifest(next));
    // The tenant's processes go first: a tree is only deleted once nothing can change it underneath.
    const containers = await options.removeContainer();
    const changes = await commit(ctx, next);
    let trashed: string | undefined;
    try {
      trashed = (await purgeUserTree(ctx.root.path, name, stampNow())).trashed;
      await removeRootDir(ctx.root.path, 'backups', name);
    } catch (error) {
      await audit({ actor: ctx.actor, action: 'user.purge', target: name, details: { containers, failed: (error as Error).message } });
      if (error instanceof OcmError) throw error;
      throw new OcmError('OCM_E_PURGE_FAILED', `${name} was removed but their data could not be deleted: ${(error as Error).message}`, { cause: error });
    }
    await audit({ actor: ctx.actor, action: 'user.purge', target: name, details: { containers, via: trashed } });
    return { manifest: next, user: undefined, changes, purged: true, containers };
  });
}

export interface TokenResult { name: string; token: string; rotated: boolean; changes: FileChange[] }

export async function userToken(ctx: OpsContext, name: string, rotate: boolean): Promise<TokenResult> {
  if (!rotate) {
    const { manifest } = await ctx.root.load();
    findUser(manifest, name);
    const token = await ctx.root.readToken(name);
    if (token === undefined) throw new OcmError('OCM_E_RENDER_STALE', `${name} has no env file with a token yet`);
    return { name, token, rotated: false, changes: [] };
  }
  return ctx.root.locked(async () => {
    const { manifest } = await ctx.root.loadToAct();
    findUser(manifest, name);
    const rendered = await ctx.root.render(manifest, new Set([name]));
    const changes = await ctx.root.apply(rendered);
    await ctx.root.audit({ actor: ctx.actor, action: 'token.rotate', target: name });
    const token = await ctx.root.readToken(name);
    return { name, token: token as string, rotated: true, changes };
  });
}

export interface UserView {
  name: string;
  enabled: boolean;
  port: number;
  url: string;
  cpus: number;
  memory: string;
  pids: number;
  overrides: string[];
  env: Record<string, string>;
  /** The network policy in force for this user and their openings in it. */
  egress: UserEgress;
  /** The model budget in force (own or default) and the group, once models are metered. */
  budget?: { daily?: number; monthly?: number; own: boolean; group?: string };
}

function budgetView(manifest: Manifest, user: User): Pick<UserView, 'budget'> {
  if (manifest.settings.models === undefined) return {};
  const { own, group } = budgetLimits(manifest, user.name);
  return { budget: { ...own, own: user.budget !== undefined, ...(group === undefined ? {} : { group: group.name }) } };
}

/** A user as shown by list/show and the API: secrets in env masked. */
export function viewUser(manifest: Manifest, user: User): UserView {
  const limits = effectiveLimits(manifest, user);
  const env = Object.fromEntries(Object.entries({ ...manifest.settings.env, ...user.env }).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, isSecretKey(k) ? `${v.slice(0, 3)}…(${v.length})` : v]));
  const overrides = (['cpus', 'memory', 'pids'] as const).filter((k) => user[k] !== undefined);
  return { name: user.name, enabled: user.enabled, port: user.port, url: userOrigin(manifest, user.name), ...limits, overrides, env, egress: userEgress(manifest, user.name), ...budgetView(manifest, user) };
}

export async function listUsers(ctx: OpsContext): Promise<UserView[]> {
  const { manifest } = await ctx.root.load();
  return manifest.users.map((u) => viewUser(manifest, u));
}

export async function showUser(ctx: OpsContext, name: string): Promise<UserView> {
  const { manifest } = await ctx.root.load();
  return viewUser(manifest, findUser(manifest, name));
}
