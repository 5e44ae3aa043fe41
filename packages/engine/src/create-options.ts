// Translate a ContainerSpec into the exact Docker create call the compose
// service would make, so `ocm up` and `docker compose up` agree.
import type Docker from 'dockerode';
import { LABEL_USER, type ContainerSpec, type HealthcheckSpec, type NetworkSpec } from '@ocm/core';

const NS_PER_SECOND = 1_000_000_000;

/** Pure: spec + env-file values + network -> dockerode create options. spec.env wins over the env file, as in compose. */
export function specToCreateOptions(
  spec: ContainerSpec,
  env: Record<string, string>,
  network: NetworkSpec,
): Docker.ContainerCreateOptions {
  const port = `${spec.containerPort}/tcp`;
  const merged = { ...env, ...spec.env };
  return {
    name: spec.name,
    Hostname: spec.hostname,
    Image: spec.image,
    Cmd: [...spec.command],
    User: spec.user,
    Env: Object.entries(merged).map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels },
    ExposedPorts: { [port]: {} },
    Healthcheck: dockerHealthcheck(spec.healthcheck),
    HostConfig: {
      PortBindings: { [port]: [{ HostIp: spec.hostIp, HostPort: String(spec.hostPort) }] },
      Binds: spec.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`),
      NanoCpus: Math.round(spec.limits.cpus * NS_PER_SECOND),
      Memory: spec.limits.memoryBytes,
      // Equal to Memory: no swap beyond the limit, so a runaway user is OOM-killed, not swapped.
      MemorySwap: spec.limits.memoryBytes,
      PidsLimit: spec.limits.pids,
      Init: spec.init,
      CapDrop: [...spec.capDrop],
      SecurityOpt: [...spec.securityOpt],
      RestartPolicy: { Name: spec.restart, MaximumRetryCount: 0 },
      NetworkMode: network.name,
      Privileged: false,
    },
    NetworkingConfig: {
      EndpointsConfig: { [network.name]: { Aliases: [userOf(spec)] } },
    },
  };
}

/** Pure: the healthcheck in Docker's words (nanoseconds), for a container and a service alike. */
export function dockerHealthcheck(h: HealthcheckSpec): { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number } {
  return {
    Test: [...h.test],
    Interval: h.intervalSeconds * NS_PER_SECOND,
    Timeout: h.timeoutSeconds * NS_PER_SECOND,
    Retries: h.retries,
    StartPeriod: h.startPeriodSeconds * NS_PER_SECOND,
  };
}

/** The user name a spec belongs to: its ocm.user label, else the container name without `ocm-`. */
export function userOf(spec: Pick<ContainerSpec, 'name' | 'labels'>): string {
  return spec.labels[LABEL_USER] ?? spec.name.replace(/^ocm-/, '');
}
