// Resident memory of a running process from /proc, sampled while load runs.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OcmProxy } from './context.js';
import { absoluteRow, type Row } from './report.js';
import { summarize } from './stats.js';

export interface Rss { rssKb: number; hwmKb: number }

export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** Highest VmRSS seen every `intervalMs` until `work` settles; returns it with the work's value. */
export async function peakRssDuring<T>(pid: number, work: Promise<T>, intervalMs = 100): Promise<{ value: T; peakKb: number }> {
  let peakKb = readRss(pid).rssKb;
  let finished = false;
  const sampler = (async () => {
    while (!finished) {
      try {
        peakKb = Math.max(peakKb, readRss(pid).rssKb);
      } catch {
        return;
      }
      await sleep(intervalMs);
    }
  })();
  try {
    const value = await work;
    return { value, peakKb };
  } finally {
    finished = true;
    await sampler;
  }
}

/** Anonymous (private) memory: RSS without the node binary's pages, which every node process shares. */
export function readAnonKb(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1] ?? NaN);
}

export const mb = (kb: number): number => kb / 1024;

/** A row of the ocm proxy's memory in MB: held to < 100 MB when it is `ocm daemon`, info for the stand-in. */
export function ocmRssRow(kind: OcmProxy['kind'], what: string, mbs: readonly number[]): Row {
  const who = kind === 'ocm daemon' ? 'ocm daemon' : 'embedded proxy process (ocm daemon not available)';
  return absoluteRow(`${who} ${what}`, 'MB', summarize(mbs), '< 100 MB', kind === 'ocm daemon' ? (m) => m < 100 : undefined);
}
