// Resident memory of a running process from /proc, sampled while load runs.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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
