// What `ocm add/set` flags turn into in a user's entry: limits, budget and
// allow-list, each parsed up front so a bad value is refused before any write.
import {
  OcmError, assertLimitsFitHost, effectiveLimits, formatEgressEntry, formatSize, parseCpus, parseEgressEntry, parsePids, parseSize, parseUsd, sameEgressEntry,
  type HostCapacity, type Manifest, type User,
} from '@ocm/core';

export interface LimitOptions {
  cpus?: string | number; memory?: string; pids?: string | number;
  /**
   * What Docker's host has, asked before anything is written so a limit the
   * engine would refuse never reaches ocm.yaml or takes a running user down.
   * Undefined (or a call that yields undefined: Docker unreachable) skips it.
   */
  hostCapacity?: () => Promise<HostCapacity | undefined>;
}

export interface BudgetOptions {
  /** The user's own model budget in US dollars; `budget: false` removes it (the default applies). */
  dailyBudget?: string | number;
  monthlyBudget?: string | number;
  budget?: boolean;
  /** How errors name the budget fields: the CLI's flags (the default), or the admin API's body fields. */
  budgetLabels?: BudgetLabels;
}

/** Refuses the user's effective limits when the engine's host cannot give them; nothing is written yet. */
export async function assertFitsHost(options: LimitOptions, manifest: Manifest, user: User): Promise<void> {
  if (options.hostCapacity === undefined || !user.enabled) return;
  const host = await options.hostCapacity();
  if (host !== undefined) assertLimitsFitHost(user.name, effectiveLimits(manifest, user), host);
}

export interface BudgetLabels { daily: string; monthly: string; none: string }
const FLAG_LABELS: BudgetLabels = { daily: '--daily-budget', monthly: '--monthly-budget', none: '--no-budget' };
export const API_BUDGET_LABELS: BudgetLabels = { daily: 'dailyBudget', monthly: 'monthlyBudget', none: 'budget: false' };

/** The user's own budget after --daily-budget, --monthly-budget and --no-budget. */
export function nextBudget(current: User['budget'], options: BudgetOptions): User['budget'] {
  const label = options.budgetLabels ?? FLAG_LABELS;
  if (options.budget === false) {
    if (options.dailyBudget !== undefined || options.monthlyBudget !== undefined) throw new OcmError('OCM_E_USAGE', `${label.none} cannot be combined with ${label.daily} or ${label.monthly}`, { hint: 'remove the budget, or set its amounts' });
    return undefined;
  }
  const next = { ...(current ?? {}) };
  if (options.dailyBudget !== undefined) next.daily = parseUsd(options.dailyBudget, label.daily);
  if (options.monthlyBudget !== undefined) next.monthly = parseUsd(options.monthlyBudget, label.monthly);
  return next;
}

/** The user's allow-list after --allow and --disallow; a --disallow of an entry they do not have is refused. */
export function egressAllow(name: string, current: readonly string[], allow: readonly string[], disallow: readonly string[]): string[] {
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

/** Normalise limits given as text into manifest form ("1.5", "512m", 256). */
export function limitFields(options: LimitOptions): Partial<Pick<User, 'cpus' | 'memory' | 'pids'>> {
  const out: Partial<Pick<User, 'cpus' | 'memory' | 'pids'>> = {};
  if (options.cpus !== undefined) out.cpus = parseCpus(options.cpus);
  if (options.memory !== undefined) out.memory = formatSize(parseSize(options.memory));
  if (options.pids !== undefined) out.pids = parsePids(options.pids);
  return out;
}

export function findUser(manifest: Manifest, name: string): User {
  const user = manifest.users.find((u) => u.name === name);
  if (user === undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(name)}`, { details: { name } });
  return user;
}
