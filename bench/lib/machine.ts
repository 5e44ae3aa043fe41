// What the numbers were measured on, and how busy the machine was.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { versions } from './docker.js';
import { run } from './proc.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  docker: string;
  compose: string;
  nginx: string;
  node: string;
  wrk: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const { server, compose } = await versions();
  const nginx = (await run('nginx', ['-v'])).stderr.trim().replace(/^nginx version: /, '');
  const wrk = (await run('wrk', ['--version'], { check: false })).stdout.split('\n')[0]?.replace(/ Copyright.*/, '') ?? '';
  return {
    cpu: model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    docker: server,
    compose,
    nginx,
    node: process.version,
    wrk,
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/** Waits (bounded) until the 1-minute load average drops below `max`; returns the load it saw last. */
export async function waitQuiet(max: number, timeoutMs: number, log: (s: string) => void): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let load = loadAverage();
  if ((load[0] as number) >= max) log(`  load ${load.join(' ')} >= ${max}: waiting up to ${Math.round(timeoutMs / 1000)} s for a quieter machine`);
  while ((load[0] as number) >= max && Date.now() < deadline) {
    await sleep(5000);
    load = loadAverage();
  }
  return load;
}
