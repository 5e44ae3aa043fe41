// Today's and this month's model spend of a user against their own budget,
// for the status report (windows in settings.timezone, as the meter counts).
import { budgetLimits, budgetWindows, type Manifest } from '@ocm/core';
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
