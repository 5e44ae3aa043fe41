// Reduce Docker's raw stats document to the five numbers `ocm status` shows,
// computed the way `docker stats` does so the two agree.
import type Docker from 'dockerode';
import type { ContainerStatsSnapshot } from './engine-types.js';

/** Pure: raw stats (stream=false, so precpu is filled) -> snapshot. */
export function toStatsSnapshot(raw: Docker.ContainerStats, pidsLimit: number): ContainerStatsSnapshot {
  const cpuDelta = raw.cpu_stats.cpu_usage.total_usage - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (raw.cpu_stats.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = raw.cpu_stats.online_cpus || raw.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  const memory = raw.memory_stats ?? ({} as Docker.MemoryStats);
  const stats = (memory.stats ?? {}) as Partial<Docker.MemoryStats['stats']>;
  // Page cache is reclaimable, so `docker stats` leaves it out; v1 and v2 name it differently.
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const usage = memory.usage ?? 0;
  return {
    cpuPercent: Math.round(cpuPercent * 100) / 100,
    memoryBytes: Math.max(0, usage - (cache < usage ? cache : 0)),
    memoryLimitBytes: memory.limit ?? 0,
    pids: raw.pids_stats?.current ?? 0,
    pidsLimit: raw.pids_stats?.limit ?? pidsLimit,
  };
}
