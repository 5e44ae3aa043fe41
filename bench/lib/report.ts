// Result rows, their verdicts and the Markdown table BENCHMARKS.md is made of.
import type { Summary } from './stats.js';

export type Verdict = 'PASS' | 'MISS' | 'info';

export interface Row {
  what: string;
  unit: string;
  ocm: Summary;
  other?: { name: string; summary: Summary };
  /** ocm median / other median. */
  ratio?: number;
  target: string;
  verdict: Verdict;
  note?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: Row[];
  notes: string[];
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
  error?: string;
}

export function ratioOf(ocm: Summary, other: Summary): number {
  return ocm.median / other.median;
}

/** Row comparing ocm with another side; `ok` decides PASS/MISS from the ratio and both summaries. */
export function compareRow(
  what: string,
  unit: string,
  ocm: Summary,
  otherName: string,
  other: Summary,
  target: string,
  ok: ((ratio: number) => boolean) | undefined,
  note?: string,
): Row {
  const ratio = ratioOf(ocm, other);
  return { what, unit, ocm, other: { name: otherName, summary: other }, ratio, target, verdict: ok === undefined ? 'info' : ok(ratio) ? 'PASS' : 'MISS', ...(note ? { note } : {}) };
}

export function absoluteRow(what: string, unit: string, ocm: Summary, target: string, ok: ((median: number) => boolean) | undefined, note?: string): Row {
  return { what, unit, ocm, target, verdict: ok === undefined ? 'info' : ok(ocm.median) ? 'PASS' : 'MISS', ...(note ? { note } : {}) };
}

export function fmt(value: number, unit: string): string {
  if (unit === 'ms') return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  if (unit === 'req/s' || unit === 'msg/s') return value.toFixed(0);
  if (unit === 'MB' || unit === 'MB/s') return value.toFixed(1);
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function cell(s: Summary, unit: string): string {
  return s.n === 1 ? `${fmt(s.median, unit)} ${unit}` : `${fmt(s.median, unit)} ${unit} (${fmt(s.min, unit)}–${fmt(s.max, unit)}, n=${s.n})`;
}

export function markdownTable(results: readonly BenchResult[]): string {
  const lines = [
    '| bench | what | ocm: median (min–max) | compared with | other: median (min–max) | ocm/other | target | result |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    if (r.error !== undefined) {
      lines.push(`| ${r.name} | ${r.title} | failed: ${r.error.split('\n')[0]?.replace(/\|/g, '\\|')} | | | | | ERROR |`);
      continue;
    }
    for (const row of r.rows) {
      lines.push(
        `| ${r.name} | ${row.what} | ${cell(row.ocm, row.unit)} | ${row.other?.name ?? '-'} | ${row.other ? cell(row.other.summary, row.unit) : '-'} | ${row.ratio === undefined ? '-' : row.ratio.toFixed(2)} | ${row.target} | ${row.verdict === 'info' ? '-' : `**${row.verdict}**`} |`,
      );
    }
  }
  return lines.join('\n');
}
