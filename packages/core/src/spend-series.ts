// Each user's spend per local day over the last N days, zeros included, so a
// chart and the API show the same series whether or not a day had calls.

export interface DailyCost { user: string; day: string; costUsd: number }

export interface SpendSeries {
  user: string;
  /** One entry per day, oldest first. */
  days: Array<{ day: string; costUsd: number }>;
  totalUsd: number;
}

export const SERIES_MAX_DAYS = 366;

/** The `count` calendar days ending with `today` (YYYY-MM-DD), oldest first. */
export function lastDays(today: string, count: number): string[] {
  const end = Date.parse(`${today}T00:00:00Z`);
  if (Number.isNaN(end)) throw new Error(`not a day: ${today}`);
  return Array.from({ length: count }, (_, i) => new Date(end - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/** Rows (any granularity below a day) summed per user and day over `days`. */
export function spendSeries(rows: readonly DailyCost[], users: readonly string[], days: readonly string[]): SpendSeries[] {
  const index = new Map(days.map((d, i) => [d, i]));
  return users.map((user) => {
    const costs = days.map(() => 0);
    for (const row of rows) {
      const i = index.get(row.day);
      if (row.user === user && i !== undefined) costs[i] = (costs[i] ?? 0) + row.costUsd;
    }
    return { user, days: days.map((day, i) => ({ day, costUsd: costs[i] ?? 0 })), totalUsd: costs.reduce((a, b) => a + b, 0) };
  });
}
