// Pure: what each user's long step is doing, in words an admin understands,
// and how that reads as a live block (terminal) or as one line per change
// (logs). No I/O here; progress.ts draws it.
import type { HealthProgress, ReconcileEvent } from '@ocm/engine';

export interface Entry {
  /** A user name, or an image while it is pulled. */
  key: string;
  phase: string;
  /** Changes within a phase (a percentage, the last probe): redrawn, never a new log line. */
  detail: string;
  /** When the key's first phase began and when this one did (ms, any clock). */
  startedAt: number;
  phaseAt: number;
}

export class Board {
  readonly entries = new Map<string, Entry>();

  /** Sets a phase; returns true when the phase itself changed (a log line's worth). */
  set(key: string, phase: string, detail: string, now: number): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, { key, phase, detail, startedAt: now, phaseAt: now });
      return true;
    }
    entry.detail = detail;
    if (entry.phase === phase) return false;
    entry.phase = phase;
    entry.phaseAt = now;
    return true;
  }

  /** Takes a key off the live block; returns its entry. */
  end(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry;
  }
}

/** A health probe's raw answer in plain words. */
export function plainProbe(detail: string): string {
  if (/^(ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|not probed yet)/i.test(detail)) return 'not answering yet';
  if (/ETIMEDOUT|timeout/i.test(detail)) return 'slow to answer';
  const http = /^HTTP (\d+)/.exec(detail);
  if (http !== null) return `answering, not ready yet (HTTP ${http[1]})`;
  return detail;
}

export const seconds = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)}s`;

/** The phase a reconcile step begins, in words; undefined for steps that do nothing. */
export function beginPhase(e: ReconcileEvent): string | undefined {
  switch (e.kind) {
    case 'create': return 'creating its container';
    case 'recreate': return 'replacing its container';
    case 'start': return 'starting';
    case 'stop': return 'stopping';
    case 'remove': return 'removing its container';
    default: return undefined;
  }
}

/** The phase a health wait is in. */
export function healthPhase(p: HealthProgress): { phase: string; detail: string } {
  return { phase: 'waiting for health', detail: plainProbe(p.detail) };
}

/** The last words of a key: how its step ended. */
export function endWords(e: ReconcileEvent, waited: boolean): string {
  if (e.status === 'failed') return `failed: ${e.error?.message ?? e.reason}`;
  if (e.kind === 'remove') return 'removed';
  if (e.kind === 'stop') return 'stopped';
  return waited ? 'healthy' : 'started';
}

/** One line of the live block: name, phase, time in it, detail; cut to the width. */
export function boardLine(entry: Entry, now: number, width: number, nameWidth: number): string {
  const line = `${entry.key.padEnd(nameWidth)}  ${entry.phase} ${seconds(now - entry.phaseAt)}${entry.detail === '' ? '' : ` (${entry.detail})`}`;
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** The live block, in the order keys began. */
export function boardLines(board: Board, now: number, width: number): string[] {
  const entries = [...board.entries.values()];
  const nameWidth = Math.min(24, Math.max(0, ...entries.map((e) => e.key.length)));
  return entries.map((e) => boardLine(e, now, width, nameWidth));
}

/** A log line for a phase change (no terminal): `alice: waiting for health (12.3s in)`. */
export function changeLine(entry: Entry, now: number): string {
  const since = now - entry.startedAt;
  return `${entry.key}: ${entry.phase}${since >= 100 ? ` (${seconds(since)} in)` : ''}${entry.detail === '' ? '' : `: ${entry.detail}`}`;
}
