// Reconcile works on a small, plain view of each container, not on Docker's
// list format, so it can stay a pure function with hand-written test input.
import type Docker from 'dockerode';
import { LABEL_ROOT, LABEL_SPEC_HASH, LABEL_USER } from '@ocm/core';
import type { ContainerState, ObservedContainer } from './engine-types.js';

const STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

/** Pure: one `docker ps -a` row -> ObservedContainer. */
export function toObserved(info: Docker.ContainerInfo): ObservedContainer {
  const labels = info.Labels ?? {};
  const state = STATES.has(info.State as ContainerState) ? (info.State as ContainerState) : 'dead';
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
