// Today's and this month's model spend of a user against their own budget,
// for the status report (windows in settings.timezone, as the meter counts).
import { budgetLimits, budgetWindows, lastDays, localDay, spendSeries, type Manifest, type SpendSeries } from '@ocm/core';
import type { UsageStore } from '@ocm/meter';

export interface ModelSpend {
  todayUsd: number;
  monthUsd: number;
  dailyBudget?: number;
  monthlyBudget?: number;
  group?: string;
}

export function modelSpend(manifest: Manifest, store: UsageStore, name: string, now: number): ModelSpend {
  const windows = budgetWindows(now, manifest.settings.timezone);
  const { own, group } = budgetLimits(manifest, name);
  return {
    todayUsd: store.spent([name], windows.day.start, windows.day.end),
    monthUsd: store.spent([name], windows.month.start, windows.month.end),
    ...(own?.daily === undefined ? {} : { dailyBudget: own.daily }),
    ...(own?.monthly === undefined ? {} : { monthlyBudget: own.monthly }),
    ...(group === undefined ? {} : { group: group.name }),
  };
}

/** Each user's spend per local day (settings.timezone) over the last `days` days, today included. */
export function spendByDay(manifest: Manifest, store: UsageStore, now: number, days: number, user?: string): SpendSeries[] {
  const range = lastDays(localDay(now, manifest.settings.timezone), days);
  const names = manifest.users.map((u) => u.name).filter((n) => user === undefined || n === user);
  const rows = store.report({ sinceDay: range[0], ...(user === undefined ? {} : { user }) });
  return spendSeries(rows, names, range);
}
