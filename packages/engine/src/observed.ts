// Reconcile works on a small, plain view of each container, not on Docker's
// list format, so it can stay a pure function with hand-written test input.
import type Docker from 'dockerode';
import { LABEL_ROOT, LABEL_SPEC_HASH, LABEL_USER } from '@ocm/core';
import type { ContainerDetails, ContainerState, ObservedContainer } from './engine-types.js';

const STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

const stateOf = (status: string | undefined): ContainerState => (STATES.has(status as ContainerState) ? (status as ContainerState) : 'dead');

/** Pure: `docker inspect` of one container -> ContainerDetails. */
export function toDetails(info: Docker.ContainerInspectInfo): ContainerDetails {
  const s = info.State;
  const bindings = (info.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostPort?: string }> | null | undefined>;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    imageId: info.Image,
    state: stateOf(s.Status),
    exitCode: s.ExitCode,
    oomKilled: s.OOMKilled,
    startedAt: s.StartedAt,
    restartCount: info.RestartCount,
    health: (s as { Health?: { Status?: string } }).Health?.Status,
    labels: { ...(info.Config.Labels ?? {}) },
    hostPorts: Object.fromEntries(Object.entries(bindings).map(([port, list]) => [port, (list ?? []).flatMap((b) => (b.HostPort === undefined ? [] : [b.HostPort]))])),
  };
}

/** Pure: one `docker ps -a` row -> ObservedContainer. */
export function toObserved(info: Docker.ContainerInfo): ObservedContainer {
  const labels = info.Labels ?? {};
  const state = stateOf(info.State);
  return {
    id: info.Id,
    name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
    user: labels[LABEL_USER],
    root: labels[LABEL_ROOT],
    specHash: labels[LABEL_SPEC_HASH],
    image: info.Image,
    state,
    labels: { ...labels },
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
  };
}
