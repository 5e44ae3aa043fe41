// The ContainerEngine on a Docker Swarm: each user is one service (replicas 1
// when started, 0 when stopped) pinned to her node, on her own attachable
// overlay, with no published port. A relay container on this manager, on her
// overlay at a fixed address, publishes her 127.0.0.1 port, so the proxy
// (embedded or nginx) reaches her exactly as on one host. What needs the
// container itself (exec, pause, stats) works on this node's tasks.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_ROOT, LABEL_SPEC_HASH, LABEL_USER, OcmError, quote, type ContainerSpec, type HostCapacity, type NetworkSpec } from '@ocm/core';
import { DockerEngine } from './docker-engine.js';
import { docker, dockerMessage, dockerStatus, toOcmError } from './docker-errors.js';
import type * as T from './engine-types.js';
import { readEnvFile } from './read-env-file.js';
import { createDemuxStream, demuxBuffer } from './demux.js';
import { relayCreateOptions, relayFromInspect, relayHash, relayName, specToService } from './service-spec.js';
import { serviceHardening } from './service-hardening.js';

/** One swarm node as ocm places users on it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** Docker's node state: ready, down, unknown... */
  state: string;
  /** active, pause or drain. */
  availability: string;
  cpus: number;
  memoryBytes: number;
  /** True for the node ocm runs on. */
  self: boolean;
}

/** Task states in which a task is, or is about to be, a container. */
const LIVE_TASK = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

interface TaskView {
  id: string;
  nodeId: string;
  state: string;
  desired: string;
  containerId: string | undefined;
  exitCode: number;
  error: string;
  updatedAt: string;
  timestamp: string;
}

/** The parts of Docker's task object ocm reads. */
interface RawTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
  UpdatedAt?: string;
  Status?: { State?: string; Err?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** The parts of Docker's node object ocm reads. */
interface RawNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string };
  Status?: { State?: string };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
}

function taskView(task: RawTask): TaskView {
  const status = task.Status ?? {};
  return {
    id: task.ID,
    nodeId: task.NodeID ?? '',
    state: status.State ?? 'unknown',
    desired: task.DesiredState ?? '',
    containerId: status.ContainerStatus?.ContainerID || undefined,
    exitCode: status.ContainerStatus?.ExitCode ?? 0,
    error: status.Err ?? '',
    updatedAt: task.UpdatedAt ?? '',
    timestamp: status.Timestamp ?? '',
  };
}

const newestFirst = (a: TaskView, b: TaskView): number => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0);

/** Pure: a service's state in a container's words, from its replicas and tasks. */
export function serviceState(replicas: number, tasks: TaskView[]): T.ContainerState {
  const live = tasks.filter((t) => t.desired === 'running');
  if (replicas === 0) return live.some((t) => t.state === 'running') ? 'removing' : 'exited';
  if (live.some((t) => t.state === 'running')) return 'running';
  return 'restarting';
}

interface ServiceInfo {
  ID: string;
  Version: { Index: number };
  UpdateStatus?: { State?: string; StartedAt?: string; Message?: string };
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate: { ForceUpdate?: number; Networks?: Array<{ Target: string }>; ContainerSpec?: { Image?: string } };
    [key: string]: unknown;
  };
  PreviousSpec?: unknown;
}

export class SwarmEngine implements T.ContainerEngine, T.InPlaceUpdates {
  /** This manager's engine: relays, networks, images and this node's task containers. */
  readonly local: DockerEngine;
  private selfId: Promise<string> | undefined;
  /** Per service, when its update status started before ocm's last update of it: a status not newer is an old one. */
  private readonly updateBefore = new Map<string, string | undefined>();

  constructor(local = new DockerEngine()) {
    this.local = local;
  }

  get docker(): Docker {
    return this.local.docker;
  }

  /** Also checks that this engine manages a swarm: OCM_E_SWARM_INACTIVE otherwise. */
  async ping(): Promise<void> {
    await this.local.ping();
    await this.nodeId();
  }

  async capacity(): Promise<HostCapacity> {
    const nodes = (await this.nodes()).filter((n) => n.state === 'ready');
    return { cpus: Math.max(0, ...nodes.map((n) => n.cpus)), memoryBytes: Math.max(0, ...nodes.map((n) => n.memoryBytes)) };
  }

  /** The swarm's nodes, this one marked. */
  async nodes(): Promise<SwarmNode[]> {
    const self = await this.nodeId();
    const rows = (await docker('list swarm nodes', () => this.docker.listNodes())) as RawNode[];
    return rows.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? '',
      role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
      state: n.Status?.State ?? 'unknown',
      availability: n.Spec?.Availability ?? 'active',
      cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      self: n.ID === self,
    }));
  }

  ensureNetwork(spec: NetworkSpec): Promise<T.EnsureNetworkResult> {
    return this.local.ensureNetwork(spec);
  }

  assertSubnetFree(spec: NetworkSpec, options?: T.SubnetCheckOptions): Promise<string[]> {
    return this.local.assertSubnetFree(spec, options);
  }

  removeNetworkIfUnused(name: string): Promise<boolean> {
    return this.local.removeNetworkIfUnused(name);
  }

  /** Creates the service with no task yet (replicas 0) and its relay, not started. */
  async create(spec: ContainerSpec, network: NetworkSpec): Promise<string> {
    const env = await readEnvFile(spec.envFile);
    let id: string;
    try {
      const created = (await this.docker.createService(specToService(spec, env, network, { replicas: 0 }) as unknown as Docker.CreateServiceOptions)) as { id?: string; ID?: string };
      id = String(created.id ?? created.ID);
    } catch (error) {
      if (dockerStatus(error) === 409) throw await this.clash(spec, error);
      throw toOcmError(error, `create service ${spec.name}`);
    }
    try {
      await this.ensureRelay(spec, network, false);
    } catch (error) {
      await this.removeService(spec.name).catch(() => undefined);
      throw error;
    }
    return id;
  }

  async start(name: string): Promise<void> {
    await this.scale(name, 1);
    await this.startRelay(name);
  }

  /**
   * Scales to 0 and waits until her task's container is gone: one writer,
   * then none. Her relay stays up: it holds her overlay on this node (a
   * stopped relay's network can be gone from the node by its next start), and
   * while no task answers it resets each connection, which the proxy shows as
   * her "not running" page.
   */
  async stop(name: string, options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.scale(name, 0);
    await this.waitNoLiveTask(name, (options.timeoutSeconds ?? 10) * 1000 + 30_000);
  }

  async restart(name: string): Promise<void> {
    await this.updateService(name, (spec) => {
      spec.Mode = { Replicated: { Replicas: 1 } };
      spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
    });
    await this.startRelay(name);
    await this.waitUpdated(name, 180_000);
  }

  async remove(name: string): Promise<void> {
    await this.removeRelay(name);
    await this.removeService(name);
  }

  rename(name: string): Promise<void> {
    return Promise.reject(new OcmError('OCM_E_INTERNAL', `swarm service ${quote(name)} cannot be renamed; a change updates it in place`));
  }

  async pause(name: string): Promise<void> {
    await this.local.pause(await this.localTask(name));
  }

  async unpause(name: string): Promise<void> {
    await this.local.unpause(await this.localTask(name));
  }

  async exec(name: string, cmd: string[], options?: T.ExecOptions): Promise<T.ExecResult> {
    return this.local.exec(await this.localTask(name), cmd, options);
  }

  async stats(name: string): Promise<T.ContainerStatsSnapshot> {
    return this.local.stats(await this.localTask(name));
  }

  logs(name: string, options: T.LogOptions & { follow: true }): Promise<Readable>;
  logs(name: string, options?: T.LogOptions & { follow?: false }): Promise<string>;
  async logs(name: string, options: T.LogOptions & { follow?: boolean } = {}): Promise<Readable | string> {
    // The newest task's own log: what the gateway said in its last life, as `docker logs` shows it.
    const self = await this.nodeId();
    const task = (await this.tasks(name)).find((t) => t.containerId !== undefined);
    if (task?.containerId !== undefined && task.nodeId === self) {
      return options.follow === true
        ? this.local.logs(task.containerId, { ...options, follow: true })
        : this.local.logs(task.containerId, { ...options, follow: false });
    }
    // On another node: what the swarm gathers of the service's tasks.
    const service = await this.inspectService(name);
    const base = { stdout: true, stderr: true, timestamps: options.timestamps ?? false, ...(options.tail === undefined ? {} : { tail: options.tail }) };
    const source = this.docker.getService(service.ID);
    if (options.follow === true) {
      const stream = (await docker(`follow logs of ${name}`, () => source.logs({ ...base, follow: true }))) as unknown as Readable;
      const out = createDemuxStream();
      out.once('close', () => stream.destroy());
      stream.once('error', (error) => out.destroy(error));
      return stream.pipe(out);
    }
    const buffer = (await docker(`read logs of ${name}`, () => source.logs({ ...base, follow: false }))) as unknown as Buffer;
    return demuxBuffer(buffer).combined.toString('utf8');
  }

  async find(name: string): Promise<T.ContainerDetails | undefined> {
    const service = await this.inspectIfAny(name);
    if (service === undefined) return undefined;
    const tasks = await this.tasks(service.ID);
    const replicas = service.Spec.Mode?.Replicated?.Replicas ?? 0;
    const state = serviceState(replicas, tasks);
    const self = await this.nodeId();
    const current = tasks.find((t) => t.desired === 'running') ?? tasks[0];
    const container = current?.containerId !== undefined && current.nodeId === self
      ? await this.local.find(current.containerId).catch(() => undefined)
      : undefined;
    const relay = await this.local.find(relayName(name)).catch(() => undefined);
    const node = current === undefined || current.nodeId === '' ? undefined : (await this.nodes()).find((n) => n.id === current.nodeId)?.hostname;
    const image = service.Spec.TaskTemplate.ContainerSpec?.Image ?? '';
    // Failed tasks of this service stand for a container's restarts.
    const failures = tasks.filter((t) => t.desired !== 'running' && (t.state === 'failed' || t.state === 'rejected')).length;
    return {
      id: service.ID,
      name: service.Spec.Name,
      image,
      imageId: container?.imageId ?? (await this.local.imageId(image)) ?? '',
      state,
      exitCode: current?.exitCode ?? 0,
      oomKilled: container?.oomKilled ?? false,
      startedAt: container?.startedAt ?? current?.timestamp ?? '0001-01-01T00:00:00Z',
      restartCount: failures,
      health: container?.health,
      labels: { ...(service.Spec.Labels ?? {}) },
      hostPorts: relay?.hostPorts ?? {},
      ...(node === undefined ? {} : { node }),
    };
  }

  async hardening(name: string, expected?: T.HardeningExpectation): Promise<T.HardeningFinding[]> {
    const service = await this.inspectIfAny(name);
    if (service === undefined) throw new OcmError('OCM_E_CONTAINER_MISSING', `service ${quote(name)} does not exist`);
    const relay = await this.local.find(relayName(name)).catch(() => undefined);
    return serviceHardening(service.Spec as never, await this.engineVersion(), expected, relay?.hostPorts);
  }

  async list(options: T.ListOptions = {}): Promise<T.ObservedContainer[]> {
    const label = [`${LABEL_MANAGED}=1`, ...Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`)];
    const services = (await docker('list services', () => this.docker.listServices({ filters: { label } }))) as unknown as ServiceInfo[];
    if (services.length === 0) return [];
    const [tasks, networks] = await Promise.all([
      docker('list tasks', () => this.docker.listTasks()) as Promise<RawTask[]>,
      docker('list networks', () => this.docker.listNetworks()),
    ]);
    const networkName = new Map(networks.map((n) => [n.Id, n.Name]));
    return services.map((s) => {
      const labels = s.Spec.Labels ?? {};
      const own = tasks.filter((t) => t.ServiceID === s.ID).map(taskView);
      return {
        id: s.ID,
        name: s.Spec.Name,
        user: labels[LABEL_USER],
        root: labels[LABEL_ROOT],
        specHash: labels[LABEL_SPEC_HASH],
        image: s.Spec.TaskTemplate.ContainerSpec?.Image ?? '',
        state: serviceState(s.Spec.Mode?.Replicated?.Replicas ?? 0, own),
        labels: { ...labels },
        networks: (s.Spec.TaskTemplate.Networks ?? []).map((n) => networkName.get(n.Target) ?? n.Target),
      };
    });
  }

  /**
   * A changed user, in place: the service takes the new spec (swarm stops
   * the old task first: one writer). When Docker refuses the spec nothing
   * changed. Her relay follows a changed port or address (not an image:
   * it only needs node from one).
   */
  async update(spec: ContainerSpec, network: NetworkSpec): Promise<void> {
    const env = await readEnvFile(spec.envFile);
    await this.updateService(spec.name, (current) => {
      const next = specToService(spec, env, network, { replicas: 1, forceUpdate: current.TaskTemplate.ForceUpdate ?? 0 });
      for (const key of Object.keys(current)) delete current[key];
      Object.assign(current, next);
    });
    await this.ensureRelay(spec, network, true);
  }

  /**
   * Until swarm says the last update of the service is done: its new task
   * runs. Until then the relay may still reach the old task, so a health
   * answer would prove nothing about the change.
   */
  async waitUpdated(name: string, timeoutMs: number, rollback = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const [running, done] = rollback ? ['rollback_started', 'rollback_completed'] : ['updating', 'completed'];
    // Until swarm registers the update ocm just asked for, what it shows is an older one's status.
    const before = this.updateBefore.get(name);
    const registered = Date.now() + 10_000;
    for (;;) {
      const service = await this.inspectService(name);
      const status = service.UpdateStatus;
      const stale = this.updateBefore.has(name) && status?.StartedAt === before;
      if (stale && Date.now() < registered) {
        await sleep(100);
        continue;
      }
      // No new status after a while: the change gave no task anything to do.
      if (stale || status?.State === undefined || status.State === done) return;
      if (status.State !== running) {
        throw new OcmError('OCM_E_DOCKER_FAILED', `the update of service ${quote(name)} did not complete: ${status.State}${status.Message ? ` (${status.Message})` : ''}`, {
          hint: `\`docker service ps --no-trunc ${name}\` shows why its new task failed`,
        });
      }
      if (Date.now() > deadline) throw new OcmError('OCM_E_UNHEALTHY', `the update of service ${quote(name)} is still running after ${Math.round(timeoutMs / 1000)} s`);
      await sleep(250);
    }
  }

  /** Back to the spec before the last update (Docker keeps it), and her relay with it. */
  async rollback(spec: ContainerSpec, network: NetworkSpec): Promise<void> {
    const service = await this.inspectService(spec.name);
    if (service.PreviousSpec === undefined) throw new OcmError('OCM_E_INTERNAL', `service ${quote(spec.name)} has no previous spec to go back to`);
    this.updateBefore.set(spec.name, service.UpdateStatus?.StartedAt);
    await docker(`roll back ${spec.name}`, () => this.docker.getService(service.ID).update({
      _query: { version: service.Version.Index, rollback: 'previous' },
      _body: service.PreviousSpec,
    }));
    await this.ensureRelay(spec, network, true);
  }

  imageExists(image: string): Promise<boolean> {
    return this.local.imageExists(image);
  }

  imageId(image: string): Promise<string | undefined> {
    return this.local.imageId(image);
  }

  pullImage(image: string, onProgress?: (event: T.PullProgress) => void): Promise<void> {
    return this.local.pullImage(image, onProgress);
  }

  private nodeId(): Promise<string> {
    this.selfId ??= (async () => {
      const info = (await docker('read the engine info', () => this.docker.info())) as { Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean } };
      const swarm = info.Swarm ?? {};
      if (swarm.LocalNodeState !== 'active' || swarm.ControlAvailable !== true || swarm.NodeID === undefined) {
        throw new OcmError('OCM_E_SWARM_INACTIVE', `settings.engine is swarm, but this Docker engine is not a swarm manager (swarm ${swarm.LocalNodeState ?? 'unknown'})`);
      }
      return swarm.NodeID;
    })();
    this.selfId.catch(() => {
      this.selfId = undefined;
    });
    return this.selfId;
  }

  private async engineVersion(): Promise<string> {
    const v = await docker('read the engine version', () => this.docker.version());
    return `Docker Engine ${v.Version} (API ${v.ApiVersion})`;
  }

  private async inspectIfAny(name: string): Promise<ServiceInfo | undefined> {
    try {
      const info = (await this.docker.getService(name).inspect()) as ServiceInfo;
      // The API matches ids by prefix and names exactly; a prefix of another id is not this service.
      return info.Spec.Name === name || info.ID === name ? info : undefined;
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw toOcmError(error, `inspect service ${name}`);
    }
  }

  private async inspectService(name: string): Promise<ServiceInfo> {
    const info = await this.inspectIfAny(name);
    if (info === undefined) throw new OcmError('OCM_E_CONTAINER_MISSING', `service ${quote(name)} does not exist`);
    if (info.Spec.Labels?.[LABEL_MANAGED] !== '1') {
      throw new OcmError('OCM_E_NOT_OURS', `service ${quote(name)} was not created by ocm; leaving it alone`, { details: { container: name } });
    }
    return info;
  }

  private async tasks(service: string): Promise<TaskView[]> {
    const rows = (await docker(`list tasks of ${service}`, () => this.docker.listTasks({ filters: { service: [service] } }))) as RawTask[];
    return rows.map(taskView).sort(newestFirst);
  }

  /** The container id of this node's running task, or why there is none. */
  private async localTask(name: string): Promise<string> {
    await this.inspectService(name);
    const self = await this.nodeId();
    const live = (await this.tasks(name)).filter((t) => t.desired === 'running' && t.state === 'running');
    const here = live.find((t) => t.nodeId === self && t.containerId !== undefined);
    if (here?.containerId !== undefined) return here.containerId;
    if (live.length > 0) {
      const node = (await this.nodes()).find((n) => n.id === live[0]?.nodeId)?.hostname ?? live[0]?.nodeId ?? '?';
      throw new OcmError('OCM_E_NODE_REMOTE', `${quote(name)} runs on node ${quote(node)}, not on this one; its container can only be reached there`, { details: { container: name, node } });
    }
    throw new OcmError('OCM_E_CONTAINER_MISSING', `service ${quote(name)} has no running task`, { details: { container: name } });
  }

  /** Read-modify-write of a service spec, again when another writer moved its version. */
  private async updateService(name: string, change: (spec: ServiceInfo['Spec']) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const service = await this.inspectService(name);
      const spec = structuredClone(service.Spec);
      change(spec);
      this.updateBefore.set(name, service.UpdateStatus?.StartedAt);
      try {
        await this.docker.getService(service.ID).update({ _query: { version: service.Version.Index }, _body: spec });
        return;
      } catch (error) {
        if (attempt < 4 && /update out of sequence/i.test(dockerMessage(error))) continue;
        throw toOcmError(error, `update service ${name}`);
      }
    }
  }

  private async scale(name: string, replicas: number): Promise<void> {
    const service = await this.inspectService(name);
    if ((service.Spec.Mode?.Replicated?.Replicas ?? 0) === replicas) return;
    await this.updateService(name, (spec) => {
      spec.Mode = { Replicated: { Replicas: replicas } };
    });
  }

  private async waitNoLiveTask(name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = (await this.tasks(name)).filter((t) => LIVE_TASK.has(t.state));
      if (live.length === 0) return;
      if (Date.now() > deadline) {
        throw new OcmError('OCM_E_DOCKER_FAILED', `service ${quote(name)} still has ${live.length} task(s) running ${Math.round(timeoutMs / 1000)} s after it was scaled to 0`, {
          hint: `\`docker service ps ${name}\` shows them`,
        });
      }
      await sleep(250);
    }
  }

  private async removeService(name: string): Promise<void> {
    const service = await this.inspectIfAny(name);
    if (service === undefined) throw new OcmError('OCM_E_CONTAINER_MISSING', `service ${quote(name)} does not exist`);
    await this.inspectService(name);
    await docker(`remove service ${name}`, () => this.docker.getService(service.ID).remove());
    // Her overlay can only go once her task has left it: wait until swarm has
    // no task of the service and this node no container of it.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const [tasks, containers] = await Promise.all([
        docker('list tasks', () => this.docker.listTasks()) as Promise<RawTask[]>,
        docker('list containers', () => this.docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.id=${service.ID}`] } })),
      ]);
      if (!tasks.some((t) => t.ServiceID === service.ID) && containers.length === 0) return;
      await sleep(250);
    }
  }

  /** The relay exists with this spec's hash (recreated when not), started when asked. */
  private async ensureRelay(spec: ContainerSpec, network: NetworkSpec, start: boolean): Promise<void> {
    const name = relayName(spec.name);
    const existing = await this.local.find(name);
    if (existing !== undefined && existing.labels[LABEL_SPEC_HASH] !== relayHash(spec, network)) {
      await this.local.remove(name);
    }
    if (existing === undefined || existing.labels[LABEL_SPEC_HASH] !== relayHash(spec, network)) {
      try {
        await this.docker.createContainer(relayCreateOptions(spec, network));
      } catch (error) {
        throw toOcmError(error, `create the relay of ${spec.name}`, { code: 'OCM_E_IMAGE_MISSING', message: `image ${quote(spec.image)} is not on this host` });
      }
    }
    if (start) await this.startRelay(spec.name);
  }

  /**
   * Starts the relay. Docker answers 404 to the start of a container whose
   * overlay this node has let go of meanwhile (a relay stopped by hand, or
   * by a reboot before the swarm came back): then the relay is made again
   * from what Docker holds of it, which attaches the overlay anew.
   */
  private async startRelay(service: string): Promise<void> {
    const name = relayName(service);
    try {
      await this.local.start(name);
    } catch (error) {
      if ((error as OcmError).code !== 'OCM_E_CONTAINER_MISSING') throw error;
      const info = await docker(`inspect ${name}`, () => this.docker.getContainer(name).inspect()).catch(() => undefined);
      if (info === undefined || info.Config.Labels?.[LABEL_MANAGED] !== '1') throw error;
      await this.local.remove(name);
      await docker(`create the relay of ${service}`, () => this.docker.createContainer(relayFromInspect(info)));
      await this.local.start(name);
    }
  }

  private async removeRelay(service: string): Promise<void> {
    await this.local.remove(relayName(service)).catch((error: unknown) => {
      if ((error as OcmError).code !== 'OCM_E_CONTAINER_MISSING') throw error;
    });
  }

  private async clash(spec: ContainerSpec, cause: unknown): Promise<OcmError> {
    const info = await this.inspectIfAny(spec.name).catch(() => undefined);
    const labels = info?.Spec.Labels ?? {};
    if (labels[LABEL_MANAGED] !== '1') {
      return new OcmError('OCM_E_NOT_OURS', `a service named ${quote(spec.name)} exists and was not created by ocm`, { cause, details: { container: spec.name } });
    }
    if (labels[LABEL_ROOT] !== spec.labels[LABEL_ROOT]) {
      return new OcmError('OCM_E_NOT_OURS', `service ${quote(spec.name)} belongs to the ocm root ${quote(labels[LABEL_ROOT])}`, {
        cause,
        hint: 'another deployment root on this swarm uses the same settings.project; give this root its own project in ocm.yaml',
        details: { container: spec.name, root: labels[LABEL_ROOT] },
      });
    }
    return new OcmError('OCM_E_INTERNAL', `service ${quote(spec.name)} already exists; reconcile should have updated it`, { cause });
  }
}
