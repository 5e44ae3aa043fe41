// The one seam between ocm and Docker: everything the CLI, daemon and backups
// need from the engine, so the flow reads without dockerode in the way.
import type { Readable } from 'node:stream';
import type { ContainerSpec, HostCapacity, NetworkSpec, UserDeployment } from '@ocm/core';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** What reconcile needs to know about a container that exists. */
export interface ObservedContainer {
  id: string;
  /** Container name without the leading slash. */
  name: string;
  /** ocm.user label, if any. */
  user: string | undefined;
  /** ocm.root label, if any. */
  root: string | undefined;
  /** ocm.spec-hash label, if any. */
  specHash: string | undefined;
  image: string;
  state: ContainerState;
  labels: Record<string, string>;
  /** Names of the networks the container is attached to. */
  networks: string[];
}

/** What ops needs of one container, in ocm's own words (never dockerode's inspect format). */
export interface ContainerDetails {
  id: string;
  /** Container name without the leading slash. */
  name: string;
  /** The image reference it was created from. */
  image: string;
  /** The image id (sha256:...) it runs. */
  imageId: string;
  state: ContainerState;
  /** Exit code of the last run (0 while it never exited). */
  exitCode: number;
  oomKilled: boolean;
  /** ISO time of the last start ('0001-01-01T00:00:00Z' when never started). */
  startedAt: string;
  restartCount: number;
  /** Docker's own healthcheck status, when the image has one. */
  health: string | undefined;
  labels: Record<string, string>;
  /** Host ports bound per container port, e.g. { '18789/tcp': ['18800'] }. */
  hostPorts: Record<string, string[]>;
  /** On a swarm: the node (host name) the current task runs or ran on. */
  node?: string;
}

export interface ContainerStatsSnapshot {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  pidsLimit: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  user?: string;
  workingDir?: string;
  env?: Record<string, string>;
}

export interface LogOptions {
  /** Last N lines only; all when omitted. */
  tail?: number;
  timestamps?: boolean;
}

export interface ListOptions {
  /** Extra label filters (AND), e.g. { 'ocm.root': '/opt/ocm' }. ocm.managed=1 always applies. */
  labels?: Record<string, string>;
}

export interface HardeningFinding {
  check: string;
  ok: boolean;
  /** Worth a look, not a failure: what this engine cannot enforce. */
  warn?: boolean;
  detail: string;
  /** What would fix it, when `ocm up` would not. */
  fix?: string;
}

/** The parts of a user's deployment its container's hardening is checked against. */
export type HardeningExpectation = Pick<UserDeployment, 'container' | 'network'>;

export interface EnsureNetworkResult {
  id: string;
  name: string;
  action: 'created' | 'exists' | 'recreated';
}

export interface SubnetCheckOptions {
  /** True for a clashing network that may be removed (when unused) instead of refused. */
  reclaim?: (network: { name: string; labels: Record<string, string> }) => boolean;
}

export interface PullProgress {
  status: string;
  id?: string;
  progress?: string;
}

/** The engine itself: is it there, and what does its host hold. */
export interface EngineHost {
  /** Fails with OCM_E_DOCKER_UNREACHABLE when the daemon does not answer. */
  ping(): Promise<void>;
  /** What the engine's host has: CPUs and memory (docker info), for limits it would refuse. */
  capacity(): Promise<HostCapacity>;
}

/** Each user's own network. */
export interface NetworkStore {
  ensureNetwork(spec: NetworkSpec): Promise<EnsureNetworkResult>;
  /**
   * OCM_E_NETWORK_CONFLICT when another network holds a subnet overlapping the
   * spec's, unless options.reclaim calls it a leftover and no container uses
   * it: then it is removed. Returns the names removed.
   */
  assertSubnetFree(spec: NetworkSpec, options?: SubnetCheckOptions): Promise<string[]>;
  /** Removes an ocm-labelled network with no containers; false when kept (foreign, in use or gone). */
  removeNetworkIfUnused(name: string): Promise<boolean>;
}

/** What can be read of containers without changing them. */
export interface ContainerReader {
  /** Any container by name or id; undefined when there is none. */
  find(name: string): Promise<ContainerDetails | undefined>;
  /**
   * What Docker reports of the container's hardening, checked against the
   * user's deployment (or, without one, that limits are set at all);
   * OCM_E_CONTAINER_MISSING when absent.
   */
  hardening(name: string, expected?: HardeningExpectation): Promise<HardeningFinding[]>;
  /** Containers labelled ocm.managed=1 (plus the extra label filters). */
  list(options?: ListOptions): Promise<ObservedContainer[]>;
  logs(name: string, options: LogOptions & { follow: true }): Promise<Readable>;
  logs(name: string, options?: LogOptions & { follow?: false }): Promise<string>;
  stats(name: string): Promise<ContainerStatsSnapshot>;
}

/** A container's life: created, run, paused, renamed, removed. */
export interface ContainerLifecycle {
  /** Creates (not starts) the container; reads spec.envFile. Returns the container id. */
  create(spec: ContainerSpec, network: NetworkSpec): Promise<string>;
  start(name: string): Promise<void>;
  stop(name: string, options?: { timeoutSeconds?: number }): Promise<void>;
  restart(name: string, options?: { timeoutSeconds?: number }): Promise<void>;
  remove(name: string): Promise<void>;
  /** Renames a container (running or not); OCM_E_CONTAINER_MISSING when absent. */
  rename(name: string, newName: string): Promise<void>;
  pause(name: string): Promise<void>;
  unpause(name: string): Promise<void>;
}

/** A command inside a running container (backups freeze with it, pairing reads with it). */
export interface ContainerExec {
  exec(name: string, cmd: string[], options?: ExecOptions): Promise<ExecResult>;
}

export interface ImageStore {
  imageExists(image: string): Promise<boolean>;
  /** The local image id (sha256:...) a reference resolves to, or undefined. */
  imageId(image: string): Promise<string | undefined>;
  pullImage(image: string, onProgress?: (event: PullProgress) => void): Promise<void>;
}

/**
 * Everything ocm asks of a container engine. Code that needs less takes the
 * smaller part (a status read takes a ContainerReader, an image check an
 * ImageStore), so what it can do to Docker is visible in its signature.
 */
export interface ContainerEngine extends EngineHost, NetworkStore, ContainerReader, ContainerLifecycle, ContainerExec, ImageStore {}

/**
 * An engine whose units change in place (swarm services) rather than by a
 * new container beside the old: update takes the new spec, rollback goes back
 * to the one before it.
 */
export interface InPlaceUpdates {
  /** Takes the new spec; Docker's refusal of it changes nothing. */
  update(spec: ContainerSpec, network: NetworkSpec): Promise<void>;
  /** Until the update (or, with rollback, the rollback) has replaced the unit's task; throws when it failed. */
  waitUpdated(name: string, timeoutMs: number, rollback?: boolean): Promise<void>;
  rollback(spec: ContainerSpec, network: NetworkSpec): Promise<void>;
}

export function updatesInPlace(engine: ContainerEngine): engine is ContainerEngine & InPlaceUpdates {
  const e = engine as Partial<InPlaceUpdates>;
  return typeof e.update === 'function' && typeof e.rollback === 'function' && typeof e.waitUpdated === 'function';
}
