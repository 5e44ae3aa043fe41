// The real ContainerEngine: dockerode over the Docker socket, never the CLI.
// Every call that changes a container first checks it carries ocm's label.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_ROOT, OcmError, quote, type ContainerSpec, type HostCapacity, type NetworkSpec } from '@ocm/core';
import { specToCreateOptions } from './create-options.js';
import { toStatsSnapshot } from './container-stats.js';
import { createDemuxStream, demuxBuffer } from './demux.js';
import { containerMissing, docker, dockerStatus, toOcmError } from './docker-errors.js';
import { runExec } from './docker-exec.js';
import { assertSubnetFree, ensureNetwork, removeNetworkIfUnused } from './docker-networks.js';
import { pullImage } from './docker-pull.js';
import type * as T from './engine-types.js';
import { inspectHardening } from './hardening.js';
import { toDetails, toObserved } from './observed.js';
import { readEnvFile } from './read-env-file.js';

export interface DockerEngineOptions {
  /** An existing client; otherwise one is made from socketPath or DOCKER_HOST. */
  docker?: Docker;
  socketPath?: string;
}

export class DockerEngine implements T.ContainerEngine {
  readonly docker: Docker;
  private readonly ensuring = new Map<string, { key: string; result: Promise<T.EnsureNetworkResult> }>();

  constructor(options: DockerEngineOptions = {}) {
    this.docker = options.docker ?? new Docker(options.socketPath ? { socketPath: options.socketPath } : undefined);
  }

  async ping(): Promise<void> {
    await docker('ping the daemon', () => this.docker.ping());
  }

  async capacity(): Promise<HostCapacity> {
    const info = await docker('read the engine info', () => this.docker.info() as Promise<{ NCPU?: number; MemTotal?: number }>);
    return { cpus: info.NCPU ?? 0, memoryBytes: info.MemTotal ?? 0 };
  }

  /**
   * A second call for a network whose creation is still in flight joins it,
   * so a caller may start the creation early (`ocm add` does, while it writes
   * the user's files) and the reconcile after it waits for the same result.
   */
  ensureNetwork(spec: NetworkSpec): Promise<T.EnsureNetworkResult> {
    const key = JSON.stringify(spec);
    const inFlight = this.ensuring.get(spec.name);
    if (inFlight?.key === key) return inFlight.result;
    const result = (inFlight ? inFlight.result.catch(() => undefined) : Promise.resolve())
      .then(() => ensureNetwork(this.docker, spec))
      .finally(() => {
        if (this.ensuring.get(spec.name)?.result === result) this.ensuring.delete(spec.name);
      });
    this.ensuring.set(spec.name, { key, result });
    return result;
  }

  assertSubnetFree(spec: NetworkSpec, options?: T.SubnetCheckOptions): Promise<string[]> {
    return assertSubnetFree(this.docker, spec, options);
  }

  removeNetworkIfUnused(name: string): Promise<boolean> {
    return removeNetworkIfUnused(this.docker, name);
  }

  async create(spec: ContainerSpec, network: NetworkSpec): Promise<string> {
    const options = specToCreateOptions(spec, await readEnvFile(spec.envFile), network);
    try {
      return (await this.docker.createContainer(options)).id;
    } catch (error) {
      if (dockerStatus(error) === 409) throw await this.clash(spec, error);
      throw toOcmError(error, `create container ${spec.name}`, {
        code: 'OCM_E_IMAGE_MISSING',
        message: `image ${quote(spec.image)} is not on this host`,
      });
    }
  }

  async start(name: string): Promise<void> {
    await this.mutate(name, 'start', (c) => c.start());
  }

  async stop(name: string, options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.mutate(name, 'stop', (c) => c.stop({ t: options.timeoutSeconds ?? 10 }));
  }

  async restart(name: string, options: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.mutate(name, 'restart', (c) => c.restart({ t: options.timeoutSeconds ?? 10 }));
  }

  async remove(name: string): Promise<void> {
    // Bind mounts only: removing volumes (v) would never touch user data, but say so explicitly.
    await this.mutate(name, 'remove', (c) => c.remove({ force: true, v: false }));
  }

  async rename(name: string, newName: string): Promise<void> {
    await this.mutate(name, 'rename', (c) => c.rename({ name: newName }));
  }

  async pause(name: string): Promise<void> {
    // The cgroup freezer can time out on a busy host ("unable to freeze"); a retry usually succeeds.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.mutate(name, 'pause', (c) => c.pause());
      } catch (error) {
        if (attempt >= 3 || !/unable to freeze/i.test((error as Error).message)) throw error;
        await sleep(500 * attempt);
      }
    }
  }

  async unpause(name: string): Promise<void> {
    await this.mutate(name, 'unpause', (c) => c.unpause());
  }

  async find(name: string): Promise<T.ContainerDetails | undefined> {
    const info = await this.inspectIfAny(name);
    return info === undefined ? undefined : toDetails(info);
  }

  async hardening(name: string, expected?: T.HardeningExpectation): Promise<T.HardeningFinding[]> {
    return inspectHardening(await this.inspect(name), expected);
  }

  async list(options: T.ListOptions = {}): Promise<T.ObservedContainer[]> {
    const label = [`${LABEL_MANAGED}=1`, ...Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`)];
    const rows = await docker('list containers', () => this.docker.listContainers({ all: true, filters: { label } }));
    return rows.map(toObserved);
  }

  logs(name: string, options: T.LogOptions & { follow: true }): Promise<Readable>;
  logs(name: string, options?: T.LogOptions & { follow?: false }): Promise<string>;
  async logs(name: string, options: T.LogOptions & { follow?: boolean } = {}): Promise<Readable | string> {
    const container = this.docker.getContainer(name);
    const base = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
    };
    if (options.follow) {
      const source = (await docker(`follow logs of ${name}`, () => container.logs({ ...base, follow: true }), containerMissing(name))) as Readable;
      const out = createDemuxStream();
      // Closing the reader must close the socket to Docker too, or it keeps the process alive.
      out.once('close', () => source.destroy());
      source.once('error', (error) => out.destroy(error));
      return source.pipe(out);
    }
    const buffer = await docker(`read logs of ${name}`, () => container.logs({ ...base, follow: false }), containerMissing(name));
    return demuxBuffer(buffer).combined.toString('utf8');
  }

  async stats(name: string): Promise<T.ContainerStatsSnapshot> {
    const info = await this.inspect(name);
    const raw = await docker(`read stats of ${name}`, () => this.docker.getContainer(name).stats({ stream: false }), containerMissing(name));
    return toStatsSnapshot(raw, info.HostConfig.PidsLimit ?? 0);
  }

  async exec(name: string, cmd: string[], options: T.ExecOptions = {}): Promise<T.ExecResult> {
    await this.requireOurs(name);
    return docker(`exec in ${name}`, () => runExec(this.docker.getContainer(name), cmd, options), containerMissing(name));
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.imageId(image)) !== undefined;
  }

  async imageId(image: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(image).inspect()).Id;
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw toOcmError(error, `inspect image ${image}`);
    }
  }

  pullImage(image: string, onProgress?: (event: T.PullProgress) => void): Promise<void> {
    return pullImage(this.docker, image, onProgress);
  }

  /** Docker's own view of a container stays in here; OCM_E_CONTAINER_MISSING when absent. */
  private inspect(name: string): Promise<Docker.ContainerInspectInfo> {
    return docker(`inspect ${name}`, () => this.docker.getContainer(name).inspect(), containerMissing(name));
  }

  private async inspectIfAny(name: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.inspect(name);
    } catch (error) {
      if ((error as OcmError).code === 'OCM_E_CONTAINER_MISSING') return undefined;
      throw error;
    }
  }

  /** Inspect, refusing containers ocm did not create. */
  private async requireOurs(name: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect(name);
    if (info.Config.Labels?.[LABEL_MANAGED] !== '1') {
      throw new OcmError('OCM_E_NOT_OURS', `container ${quote(name)} was not created by ocm; leaving it alone`, {
        details: { container: name },
      });
    }
    return info;
  }

  private async mutate(name: string, verb: string, call: (c: Docker.Container) => Promise<unknown>): Promise<void> {
    const info = await this.requireOurs(name);
    try {
      await call(this.docker.getContainer(info.Id));
    } catch (error) {
      // 304: already in the wanted state (started, stopped), which is what we asked for.
      if (dockerStatus(error) === 304) return;
      throw toOcmError(error, `${verb} ${name}`, containerMissing(name));
    }
  }

  /** A name clash on create: say whose container holds the name. */
  private async clash(spec: ContainerSpec, cause: unknown): Promise<OcmError> {
    const info = await this.inspectIfAny(spec.name).catch(() => undefined);
    const labels = info?.Config.Labels ?? {};
    if (labels[LABEL_MANAGED] !== '1') {
      return new OcmError('OCM_E_NOT_OURS', `a container named ${quote(spec.name)} exists and was not created by ocm`, {
        cause,
        details: { container: spec.name },
      });
    }
    const root = spec.labels[LABEL_ROOT];
    if (root !== undefined && labels[LABEL_ROOT] !== root) {
      return new OcmError('OCM_E_NOT_OURS', `container ${quote(spec.name)} belongs to the ocm root ${quote(labels[LABEL_ROOT])}`, {
        cause,
        hint: `another deployment root on this host uses the same settings.project; give this root its own project in ocm.yaml, or remove the other with \`ocm --root ${labels[LABEL_ROOT]} down\``,
        details: { container: spec.name, root: labels[LABEL_ROOT] },
      });
    }
    return new OcmError('OCM_E_INTERNAL', `container ${quote(spec.name)} already exists; reconcile should have recreated it`, { cause });
  }
}
