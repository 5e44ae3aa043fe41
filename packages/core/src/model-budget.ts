// What a model call costs and whether a user may make the next one: pure
// decisions the meter takes with numbers read from its usage store.
import { OcmError, quote } from './errors.js';
import type { Budget, Manifest, Provider } from './manifest-schema.js';
import type { BudgetWindows } from './budget-window.js';

/** Tokens of one call, as the provider itself reported them. */
export interface CallUsage {
  /** Input tokens billed at the input price (cached ones not included). */
  inputTokens: number;
  /** Input tokens read from the provider's cache. */
  cacheReadTokens: number;
  /** Input tokens written to the provider's cache (Anthropic bills them at a premium). */
  cacheWriteTokens: number;
  /** Of the cache writes, those kept for an hour (Anthropic's 1-hour cache, dearer than the 5-minute one). */
  cacheWrite1hTokens?: number;
  /** Output tokens, reasoning included. */
  outputTokens: number;
  /** Of the output, reasoning tokens (reported, already in outputTokens). */
  reasoningTokens: number;
}

/** US dollars for a call at the prices in force now; an unpriced model costs 0. */
export function callCost(usage: CallUsage, price: Provider['prices'][string] | undefined): number {
  if (price === undefined) return 0;
  const cacheWrite = price.cacheWrite ?? price.input;
  const hourWrites = Math.min(usage.cacheWrite1hTokens ?? 0, usage.cacheWriteTokens);
  const micro = usage.inputTokens * price.input + usage.cacheReadTokens * (price.cacheRead ?? price.input)
    + (usage.cacheWriteTokens - hourWrites) * cacheWrite + hourWrites * (price.cacheWrite1h ?? cacheWrite)
    + usage.outputTokens * price.output;
  return micro / 1_000_000;
}

export interface BudgetLimits {
  /** The user's own budget (theirs, else the default); undefined when none. */
  own: Budget | undefined;
  /** The group they are in, with its shared budget. */
  group: { name: string; budget: Budget; members: string[] } | undefined;
}

export function budgetLimits(manifest: Manifest, name: string): BudgetLimits {
  const models = manifest.settings.models;
  const user = manifest.users.find((u) => u.name === name);
  const own = user?.budget ?? models?.budget;
  const entry = Object.entries(models?.groups ?? {}).find(([, g]) => g.members.includes(name));
  const group = entry === undefined ? undefined : { name: entry[0], budget: { daily: entry[1].daily, monthly: entry[1].monthly }, members: entry[1].members };
  return { own, group };
}

/** Dollars already spent in the current windows. */
export interface Spent { userDay: number; userMonth: number; groupDay: number; groupMonth: number }

export type CapScope = 'daily' | 'monthly' | 'group daily' | 'group monthly';

export type BudgetDecision =
  | { allowed: true }
  | { allowed: false; scope: CapScope; limit: number; spent: number; resetAt: number; retryAfterSeconds: number };

/**
 * Over a cap once the spend reaches it. Calls already in flight finish, so
 * the overshoot is at most what they cost. When several caps are hit, the
 * latest reset is the one that matters.
 */
export function budgetDecision(limits: BudgetLimits, spent: Spent, windows: BudgetWindows, now: number): BudgetDecision {
  const caps: { scope: CapScope; limit: number | undefined; spent: number; end: number }[] = [
    { scope: 'daily', limit: limits.own?.daily, spent: spent.userDay, end: windows.day.end },
    { scope: 'monthly', limit: limits.own?.monthly, spent: spent.userMonth, end: windows.month.end },
    { scope: 'group daily', limit: limits.group?.budget.daily, spent: spent.groupDay, end: windows.day.end },
    { scope: 'group monthly', limit: limits.group?.budget.monthly, spent: spent.groupMonth, end: windows.month.end },
  ];
  let hit: BudgetDecision | undefined;
  for (const cap of caps) {
    if (cap.limit === undefined || cap.spent < cap.limit) continue;
    if (hit === undefined || (!hit.allowed && cap.end > hit.resetAt)) {
      hit = { allowed: false, scope: cap.scope, limit: cap.limit, spent: cap.spent, resetAt: cap.end, retryAfterSeconds: Math.max(1, Math.ceil((cap.end - now) / 1000)) };
    }
  }
  return hit ?? { allowed: true };
}

/** A budget amount from the command line or API: plain US dollars. */
export function parseUsd(value: string | number, what: string): number {
  const n = typeof value === 'number' ? value : /^\d{1,7}(\.\d{1,6})?$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000) {
    throw new OcmError('OCM_E_BUDGET_INVALID', `${what}: ${quote(String(value))} is not an amount of US dollars`);
  }
  return n;
}
