// Budgets reset at local midnight and on the first of the month in
// settings.timezone; these are the instants, worked out from Intl alone so a
// DST change moves the reset with the wall clock.
import { OcmError } from './errors.js';

export interface BudgetWindow {
  /** 2026-12-05 for a day, 2026-12 for a month (local to the timezone). */
  key: string;
  /** First instant of the window, epoch milliseconds. */
  start: number;
  /** First instant after it (the next reset), epoch milliseconds. */
  end: number;
}

export interface BudgetWindows { day: BudgetWindow; month: BudgetWindow }

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch (error) {
      throw new OcmError('OCM_E_MANIFEST_INVALID', `settings.timezone: ${JSON.stringify(timeZone)} is not a timezone this system knows`, { hint: 'use an IANA name such as UTC or Europe/Berlin', cause: error });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Is this a timezone name Intl knows? */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    formatter(timeZone);
    return undefined;
  } catch {
    return 'is not a timezone this system knows (e.g. UTC or Europe/Berlin)';
  }
}

interface Wall { year: number; month: number; day: number }

function wallClock(ms: number, timeZone: string): Wall & { offset: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, offset: asUtc - Math.floor(ms / 1000) * 1000 };
}

/** The instant of local midnight starting this date (month and day may overflow, as in Date.UTC). */
function localMidnight(date: Wall, timeZone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  // Two rounds settle the offset even when midnight sits next to a DST change.
  let t = naive - wallClock(naive, timeZone).offset;
  t = naive - wallClock(t, timeZone).offset;
  return t;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function budgetWindows(now: number, timeZone: string): BudgetWindows {
  const w = wallClock(now, timeZone);
  const day = { key: `${w.year}-${pad(w.month)}-${pad(w.day)}`, start: localMidnight(w, timeZone), end: localMidnight({ ...w, day: w.day + 1 }, timeZone) };
  const month = { key: `${w.year}-${pad(w.month)}`, start: localMidnight({ ...w, day: 1 }, timeZone), end: localMidnight({ ...w, month: w.month + 1, day: 1 }, timeZone) };
  return { day, month };
}

/** The local calendar day (YYYY-MM-DD) of an instant, for reports. */
export function localDay(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}
