// A user as list, show and the admin API print them: effective limits, the
// policy and budget in force, secrets in env masked. Reading never writes.
import { budgetLimits, effectiveLimits, isSecretKey, userEgress, userOrigin, type Manifest, type User, type UserEgress } from '@ocm/core';
import type { OpsContext } from './context.js';
import { findUser } from './user-fields.js';

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
