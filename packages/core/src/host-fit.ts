// Limits a host can give: Docker refuses a container asking for more CPUs
// than the engine's host has ("Range of CPUs is from 0.01 to N") only when
// it is created, which for `set` is after the old container is gone. So an
// edit is checked against the engine's host before anything is written.
import { OcmError } from './errors.js';
import { parseSize } from './sizes.js';

const MIB = 1024 * 1024;
const inGiB = (bytes: number): string => `${(bytes / (1024 * MIB)).toFixed(1)} GiB`;

export interface HostCapacity {
  /** CPUs the engine's host has (docker info NCPU). */
  cpus: number;
  /** Memory of the engine's host in bytes (docker info MemTotal). */
  memoryBytes: number;
}

/** Refuses limits the engine's host cannot give, naming the user, the limit and what fits. */
export function assertLimitsFitHost(name: string, limits: { cpus: number; memory: string }, host: HostCapacity): void {
  if (host.cpus > 0 && limits.cpus > host.cpus) {
    throw new OcmError('OCM_E_LIMITS_EXCEED_HOST', `${name}: cpus ${limits.cpus} is more than the ${host.cpus} CPU(s) of Docker's host`, {
      hint: `use --cpus ${host.cpus} or less (a fraction such as 0.5 is fine)`,
      details: { name, limit: 'cpus', value: limits.cpus, host: host.cpus },
    });
  }
  const memory = parseSize(limits.memory);
  if (host.memoryBytes > 0 && memory > host.memoryBytes) {
    throw new OcmError('OCM_E_LIMITS_EXCEED_HOST', `${name}: memory ${limits.memory} is more than the ${inGiB(host.memoryBytes)} of Docker's host`, {
      hint: `use --memory ${Math.floor(host.memoryBytes / 2 / MIB)}m or less`,
      details: { name, limit: 'memory', value: limits.memory, host: host.memoryBytes },
    });
  }
}

/** The CPUs a new root gives each gateway by default: 2, or what the host has when it has fewer. */
export function defaultCpusFor(hostCpus: number): number {
  if (!Number.isFinite(hostCpus) || hostCpus <= 0) return 2;
  return Math.min(2, hostCpus);
}
