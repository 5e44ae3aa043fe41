// Which archives to keep: pure arithmetic on dates (UTC days, ISO weeks), so it
// can be tested across month, year and week-53 boundaries without a disk.
// Scheduled and manual archives are two separate series: the admin's "before
// I change things" backup must not cost a nightly one its day, nor the other way round.
import type { ArchiveKind } from './archive-name.js';

export interface RetentionPolicy {
  /** Newest archive of each of the last N days that have one. */
  keepDaily: number;
  /** Newest archive of each of the last M ISO weeks that have one, beyond the weeks the daily ones cover. */
  keepWeekly: number;
  /** Newest N archives taken by hand (default 5). */
  keepManual?: number;
}

export const DEFAULT_KEEP_MANUAL = 5;

export const defaultRetention: RetentionPolicy = { keepDaily: 7, keepWeekly: 4, keepManual: DEFAULT_KEEP_MANUAL };

export interface Dated {
  path: string;
  time: Date;
  /** Absent means scheduled (archives named before the marker existed). */
  kind?: ArchiveKind;
}

export interface RetentionPlan<T extends Dated> {
  keep: T[];
  prune: T[];
}

export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** ISO 8601 week, e.g. `2020-W53`: weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeek(date: Date): string {
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const kindOf = (a: Dated): ArchiveKind => a.kind ?? 'scheduled';

/**
 * Archives dated after `now` (a clock that went back) are always kept and do not
 * count; the newest archive of each kind is never pruned, whatever the policy.
 * Scheduled archives follow keepDaily/keepWeekly, manual ones keepManual. With
 * `scope`, only archives of that kind may be pruned (a run prunes its own kind).
 */
export function planRetention<T extends Dated>(archives: readonly T[], now: Date, policy: RetentionPolicy = defaultRetention, scope?: ArchiveKind): RetentionPlan<T> {
  const newestFirst = [...archives].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  const keep = new Set<T>(newestFirst.filter((a) => a.time.getTime() > now.getTime() || (scope !== undefined && kindOf(a) !== scope)));
  for (const a of keepScheduled(newestFirst.filter((a) => kindOf(a) === 'scheduled'), now, policy)) keep.add(a);
  const manual = newestFirst.filter((a) => kindOf(a) === 'manual' && a.time.getTime() <= now.getTime());
  for (const a of manual.slice(0, Math.max(1, policy.keepManual ?? DEFAULT_KEEP_MANUAL))) keep.add(a);
  return { keep: newestFirst.filter((a) => keep.has(a)), prune: newestFirst.filter((a) => !keep.has(a)) };
}

/** The scheduled series, newest first: what keepDaily/keepWeekly keep of the past ones. */
function keepScheduled<T extends Dated>(newestFirst: readonly T[], now: Date, policy: RetentionPolicy): Set<T> {
  const past = newestFirst.filter((a) => a.time.getTime() <= now.getTime());
  const keep = new Set<T>();
  if (past[0]) keep.add(past[0]);

  const days = new Set<string>();
  for (const a of past) {
    if (days.size >= policy.keepDaily) break;
    if (days.has(utcDay(a.time))) continue;
    days.add(utcDay(a.time));
    keep.add(a);
  }
  const coveredWeeks = new Set(past.filter((a) => days.has(utcDay(a.time))).map((a) => isoWeek(a.time)));
  const weeks = new Set<string>();
  for (const a of past) {
    if (weeks.size >= policy.keepWeekly) break;
    const week = isoWeek(a.time);
    if (coveredWeeks.has(week) || weeks.has(week)) continue;
    weeks.add(week);
    keep.add(a);
  }
  return keep;
}
