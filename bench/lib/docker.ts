// The few Docker operations the bench needs, through the docker CLI so the
// bench shares no code with the engine it measures.
import { run } from './proc.js';

export const BENCH_LABEL = 'ocm.bench';

async function ids(kind: 'container' | 'network', label: string): Promise<string[]> {
  const args = kind === 'container' ? ['ps', '-aq', '--filter', `label=${label}`] : ['network', 'ls', '-q', '--filter', `label=${label}`];
  const out = await run('docker', args);
  return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Removes every container, then every network, carrying the label (k=v). */
export async function reapByLabel(label: string): Promise<{ containers: number; networks: number }> {
  const containers = await ids('container', label);
  if (containers.length > 0) await run('docker', ['rm', '-f', ...containers], { check: false });
  const networks = await ids('network', label);
  if (networks.length > 0) await run('docker', ['network', 'rm', ...networks], { check: false });
  const left = (await ids('container', label)).length + (await ids('network', label)).length;
  if (left > 0) throw new Error(`${left} objects labelled ${label} are still there`);
  return { containers: containers.length, networks: networks.length };
}

export async function countContainers(label: string, running = false): Promise<number> {
  const args = ['ps', '-q', '--filter', `label=${label}`];
  if (!running) args.splice(1, 1, '-aq');
  return (await run('docker', args)).stdout.split('\n').filter((s) => s.trim() !== '').length;
}

export async function versions(): Promise<{ server: string; compose: string }> {
  const server = (await run('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  const compose = (await run('docker-compose', ['version', '--short'])).stdout.trim();
  return { server, compose };
}
