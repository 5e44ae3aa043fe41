// The user edits: add, set, remove, token rotation and the revert of a set
// Docker refused. Each is an Edit value run by editRoot (lock -> load ->
// edit -> validate -> hooks -> render -> write -> audit), so a refusal
// leaves the root byte-identical and every edit writes one audit line.
import { OcmError, allocatePort, assertEnvEntry, assertUserName, canonicalJson, groupOf, joinGroup, leaveGroups, validateManifest, type Manifest, type User } from '@ocm/core';
import { keptUserState, purgeUserTree, removeRootDir, type AuditEntry, type FileChange } from '@ocm/store';
import type { OpsContext } from './context.js';
import { editRoot, type Edit, type Prepared } from './edit-pipeline.js';
import { assertFitsHost, egressAllow, findUser, limitFields, nextBudget, type BudgetOptions, type LimitOptions } from './user-fields.js';

export { API_BUDGET_LABELS, type BudgetLabels, type LimitOptions } from './user-fields.js';
export type { Prepared } from './edit-pipeline.js';
export { listUsers, showUser, viewUser, type UserView } from './user-view.js';

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
  /** On a swarm: the node (host name) the user is pinned to. */
  node?: string;
}

export interface EditResult { manifest: Manifest; user: User | undefined; changes: FileChange[] }

export interface AddResult extends EditResult {
  /** users/<name>/state of an earlier user of this name is reused (her chats, devices, config). */
  reusedState: boolean;
  /** An earlier user's tree deleted by --fresh. */
  freshened: boolean;
  /** options.group, and whether the user joined it (false: this root has no such group). */
  group?: { name: string; joined: boolean };
}

export interface SetOptions extends LimitOptions, BudgetOptions {
  env?: Record<string, string>;
  unsetEnv?: string[];
  enabled?: boolean;
  /** Network policy openings for this user: address or CIDR, optional port. */
  allow?: string[];
  disallow?: string[];
  /** On a swarm: the node to pin her to (`ocm move`); checked against the swarm by the caller. */
  node?: string;
}

/** A set's result: also the manifest it replaced, to put back should Docker refuse the change. */
export interface SetResult extends EditResult { previous: Manifest }

export interface RemoveOptions {
  purge?: boolean;
  yes?: boolean;
  /**
   * Stops and removes the user's container; required for a purge, which runs
   * it before anything is deleted so nothing of the tenant runs meanwhile.
   */
  removeContainer?: () => Promise<string[]>;
  /** false: the caller records the whole operation in the audit log itself (an import taken back). */
  audit?: boolean;
}

export interface RemoveResult extends EditResult { purged: boolean; containers: string[] }

export interface TokenResult { name: string; token: string; rotated: boolean; changes: FileChange[] }

const stampNow = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** The add edit; the name, limits and env are checked when it is made, before any lock. */
export function addEdit(ctx: OpsContext, name: string, options: AddOptions = {}): Edit<AddResult> {
  assertUserName(name);
  const limits = limitFields(options);
  for (const [k, v] of Object.entries(options.env ?? {})) assertEnvEntry(k, v);
  return {
    plan(manifest) {
      if (manifest.users.some((u) => u.name === name)) {
        throw new OcmError('OCM_E_USER_EXISTS', `user ${JSON.stringify(name)} already exists`, { details: { name } });
      }
      const user: User = { name, port: allocatePort(manifest), enabled: true, ...options.entry, ...limits, env: { ...(options.env ?? {}) }, ...(options.node === undefined ? {} : { node: options.node }) };
      const added: Manifest = { ...manifest, users: [...manifest.users, user] };
      const grouped = options.group === undefined ? undefined : joinGroup(added, name, options.group);
      const next = grouped ?? added;
      let kept = false;
      let freshened = false;
      const fresh = options.fresh === true;
      return {
        next,
        beforeWrite: [
          () => assertFitsHost(options, next, user),
          async () => {
            kept = await keptUserState(ctx.root.path, name);
            if (kept && fresh && options.removeContainer === undefined) throw new OcmError('OCM_E_INTERNAL', '--fresh needs a way to remove a leftover container first');
          },
          async () => options.beforeWrite?.(next, user),
          async () => {
            if (!kept || !fresh) return;
            // Nothing of the old tenant may run while her tree goes.
            await options.removeContainer?.();
            await purgeUserTree(ctx.root.path, name, stampNow());
            freshened = true;
          },
        ],
        audit: () => (options.audit === false ? undefined : { action: 'user.add', target: name, details: { port: user.port, ...(user.node === undefined ? {} : { node: user.node }), ...limits, envKeys: Object.keys(user.env), ...(kept ? { state: freshened ? 'fresh' : 'reused' } : {}) } }),
        result: ({ changes }) => ({
          manifest: next, user, changes, reusedState: kept && !freshened, freshened,
          ...(options.group === undefined ? {} : { group: { name: options.group, joined: grouped !== undefined } }),
        }),
      };
    },
  };
}

/** The set edit; limits and env are checked when it is made. */
export function setEdit(name: string, options: SetOptions): Edit<SetResult> {
  const limits = limitFields(options);
  for (const [k, v] of Object.entries(options.env ?? {})) assertEnvEntry(k, v);
  return {
    plan(manifest) {
      const current = findUser(manifest, name);
      const env = { ...current.env, ...(options.env ?? {}) };
      for (const key of options.unsetEnv ?? []) {
        if (!(key in env)) throw new OcmError('OCM_E_ENV_INVALID', `user ${JSON.stringify(name)} has no env ${JSON.stringify(key)}`, { hint: `run \`ocm show ${name}\` to see the env keys` });
        delete env[key];
      }
      const user: User = { ...current, ...limits, env, ...(options.enabled === undefined ? {} : { enabled: options.enabled }), ...(options.node === undefined ? {} : { node: options.node }) };
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
      return {
        next,
        beforeWrite: [() => assertFitsHost(options, next, user)],
        audit: () => ({ action: 'user.set', target: name, details: { ...limits, envKeys: Object.keys(options.env ?? {}), unsetEnv: options.unsetEnv, enabled: options.enabled, allow: options.allow, disallow: options.disallow, budget: user.budget ?? null, ...(options.node === undefined ? {} : { node: options.node, from: current.node ?? null }) } }),
        result: ({ changes }) => ({ manifest: next, user, changes, previous: manifest }),
      };
    },
  };
}

/** Puts `previous` back when ocm.yaml still holds `written`; nothing written otherwise. */
export function revertEditOf(name: string, written: Manifest, previous: Manifest, reason: string): Edit<boolean> {
  return {
    // ocm's own write being put back: its users are the ones ocm recorded.
    read: 'as-is',
    plan(manifest) {
      if (canonicalJson(manifest) !== canonicalJson(validateManifest(written))) return { unchanged: false };
      return { next: previous, audit: () => ({ action: 'user.set.reverted', target: name, details: { reason } }), result: () => true };
    },
  };
}

/** The remove edit; a purge removes the container before the write and the trees after it. */
export function removeEdit(ctx: OpsContext, name: string, options: RemoveOptions = {}): Edit<RemoveResult> {
  if (options.purge === true && options.yes !== true) {
    throw new OcmError('OCM_E_CONFIRM_REQUIRED', `--purge deletes ${name}'s state, config and backups for good`, { hint: `repeat with --purge --yes to delete them` });
  }
  return {
    plan(manifest) {
      findUser(manifest, name);
      // She leaves her model group too: a group may not name someone who is not a user.
      const group = groupOf(manifest, name);
      const next = leaveGroups({ ...manifest, users: manifest.users.filter((u) => u.name !== name) }, name);
      const left = group === undefined ? {} : { group };
      const audited = (entry: Omit<AuditEntry, 'actor'>) => (options.audit === false ? undefined : entry);
      if (options.purge !== true) {
        return { next, audit: () => audited({ action: 'user.remove', target: name, ...(group === undefined ? {} : { details: left }) }), result: ({ changes }) => ({ manifest: next, user: undefined, changes, purged: false, containers: [] }) };
      }
      const removeContainer = options.removeContainer;
      if (removeContainer === undefined) throw new OcmError('OCM_E_INTERNAL', 'a purge needs a way to remove the container first');
      let containers: string[] = [];
      let trashed: string | undefined;
      let failed: string | undefined;
      return {
        next,
        // The tenant's processes go first: a tree is only deleted once nothing can change it underneath.
        beforeWrite: [async () => {
          containers = await removeContainer();
        }],
        afterWrite: async () => {
          try {
            trashed = (await purgeUserTree(ctx.root.path, name, stampNow())).trashed;
            await removeRootDir(ctx.root.path, 'backups', name);
          } catch (error) {
            failed = (error as Error).message;
            if (error instanceof OcmError) throw error;
            throw new OcmError('OCM_E_PURGE_FAILED', `${name} was removed but their data could not be deleted: ${failed}`, { cause: error });
          }
        },
        audit: () => audited({ action: 'user.purge', target: name, details: failed === undefined ? { containers, via: trashed, ...left } : { containers, failed, ...left } }),
        result: ({ changes }) => ({ manifest: next, user: undefined, changes, purged: true, containers }),
      };
    },
  };
}

/** A new token for the user: ocm.yaml stays as it is, their env file is rendered with the new one. */
export function rotateTokenEdit(ctx: OpsContext, name: string): Edit<TokenResult> {
  return {
    plan(manifest) {
      findUser(manifest, name);
      return {
        rotate: new Set([name]),
        audit: () => ({ action: 'token.rotate', target: name }),
        result: async ({ changes }) => ({ name, token: (await ctx.root.readToken(name)) as string, rotated: true, changes }),
      };
    },
  };
}

export async function addUser(ctx: OpsContext, name: string, options: AddOptions = {}): Promise<AddResult> {
  return editRoot(ctx, addEdit(ctx, name, options));
}

export async function setUser(ctx: OpsContext, name: string, options: SetOptions): Promise<SetResult> {
  return editRoot(ctx, setEdit(name, options));
}

/**
 * Put `previous` back as ocm.yaml (and its files) after the change that wrote
 * `written` was refused by Docker; false, and nothing written, when the
 * manifest has been edited since.
 */
export async function revertEdit(ctx: OpsContext, name: string, written: Manifest, previous: Manifest, reason: string): Promise<boolean> {
  return editRoot(ctx, revertEditOf(name, written, previous, reason));
}

export async function removeUser(ctx: OpsContext, name: string, options: RemoveOptions = {}): Promise<RemoveResult> {
  return editRoot(ctx, removeEdit(ctx, name, options));
}

export async function userToken(ctx: OpsContext, name: string, rotate: boolean): Promise<TokenResult> {
  if (rotate) return editRoot(ctx, rotateTokenEdit(ctx, name));
  const { manifest } = await ctx.root.load();
  findUser(manifest, name);
  const token = await ctx.root.readToken(name);
  if (token === undefined) throw new OcmError('OCM_E_RENDER_STALE', `${name} has no env file with a token yet`);
  return { name, token, rotated: false, changes: [] };
}
