// The few Docker operations the bench needs, through the docker CLI so the
// bench shares no code with the engine it measures.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from './proc.js';

export const BENCH_LABEL = 'ocm.bench';

/** docker <args>, waiting up to a minute while the engine is being restarted (other people's fault tests do that). */
async function docker(args: string[]): Promise<RunResult> {
  for (let attempt = 0; ; attempt++) {
    const r = await run('docker', args, { check: false });
    if (r.code === 0 || !/Cannot connect to the Docker daemon|Is the docker daemon running/.test(r.stderr) || attempt >= 30) {
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      return r;
    }
    await sleep(2000);
  }
}

async function ids(kind: 'container' | 'network', label: string): Promise<string[]> {
  const args = kind === 'container' ? ['ps', '-aq', '--filter', `label=${label}`] : ['network', 'ls', '-q', '--filter', `label=${label}`];
  const out = await docker(args);
  return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Removes every container, then every network, carrying the label (k=v). */
export async function reapByLabel(label: string): Promise<{ containers: number; networks: number }> {
  const containers = await ids('container', label);
  if (containers.length > 0) await docker(['rm', '-f', ...containers]).catch(() => undefined);
  const networks = await ids('network', label);
  if (networks.length > 0) await docker(['network', 'rm', ...networks]).catch(() => undefined);
  const left = (await ids('container', label)).length + (await ids('network', label)).length;
  if (left > 0) throw new Error(`${left} objects labelled ${label} are still there`);
  return { containers: containers.length, networks: networks.length };
}

/** Removes the swarm services carrying the label (k=v) and waits (up to 60 s) until their tasks are gone. */
export async function reapServices(label: string): Promise<number> {
  const services = (await docker(['service', 'ls', '-q', '--filter', `label=${label}`]).catch(() => ({ stdout: '' }))).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (services.length === 0) return 0;
  await docker(['service', 'rm', ...services]).catch(() => undefined);
  const deadline = Date.now() + 60_000;
  const left = async (): Promise<boolean> => {
    for (const id of services) if ((await docker(['ps', '-aq', '--filter', `label=com.docker.swarm.service.id=${id}`])).stdout.trim() !== '') return true;
    return false;
  };
  while (Date.now() < deadline && (await left())) await new Promise((resolve) => setTimeout(resolve, 250));
  return services.length;
}

export async function countContainers(label: string, running = false): Promise<number> {
  const args = ['ps', '-q', '--filter', `label=${label}`];
  if (!running) args.splice(1, 1, '-aq');
  return (await docker(args)).stdout.split('\n').filter((s) => s.trim() !== '').length;
}

export async function versions(): Promise<{ server: string; compose: string }> {
  const server = (await run('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  const compose = (await run('docker-compose', ['version', '--short'])).stdout.trim();
  return { server, compose };
}

/** Pid and start time of the running dockerd: when it changes, someone restarted the engine under a bench. */
export function dockerdIdentity(): string {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'dockerd') continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return `${pid}@${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
    } catch {
      // the process ended while we looked
    }
  }
  return 'none';
}
