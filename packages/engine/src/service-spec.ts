// Translate a ContainerSpec into the swarm service `docker stack deploy`
// makes of the rendered stack file, and the relay container that carries the
// proxy's connections to it over the user's overlay. Pure.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL_SPEC_HASH, type ContainerSpec, type NetworkSpec } from '@ocm/core';
import { dockerHealthcheck, userOf } from './create-options.js';

const NS_PER_SECOND = 1_000_000_000;

/** The relay's own container name: beside the service, never a user's name (those have no dots). */
export const relayName = (service: string): string => `${service}.relay`;
export const LABEL_ROLE = 'ocm.role';

/**
 * The relay: a TCP pipe from its published 127.0.0.1 port to the user's
 * service on her overlay. TCP, not HTTP: the proxy's X-Forwarded-For and the
 * WebSocket upgrade pass through untouched, and the gateway sees the relay's
 * fixed address, which is her trusted proxy.
 */
export const RELAY_SCRIPT = [
  "const net=require('net');const target=process.env.OCM_RELAY_TARGET;const port=Number(process.env.OCM_RELAY_PORT);",
  'net.createServer((c)=>{const u=net.connect(port,target);const end=()=>{c.destroy();u.destroy();};',
  "c.pipe(u);u.pipe(c);c.on('error',end);u.on('error',end);c.on('close',end);u.on('close',end);}).listen(port);",
  "process.on('SIGTERM',()=>process.exit(0));",
].join('');

/** The memory a relay may use: a Node process piping sockets. */
const RELAY_MEMORY = 96 * 1024 * 1024;

/** Service env: the env file's values under spec.env's, sorted as the docker CLI sorts them. */
function serviceEnv(spec: ContainerSpec, env: Record<string, string>): string[] {
  return Object.entries({ ...env, ...spec.env }).map(([k, v]) => `${k}=${v}`).sort();
}

/** The swarm ServiceSpec, as much of it as ocm writes (Docker's API names). */
export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels: Record<string, string>;
      Args: string[];
      Hostname: string;
      Env: string[];
      User: string;
      Init: boolean;
      Privileges?: { NoNewPrivileges?: boolean };
      Mounts: Array<{ Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }>;
      Healthcheck: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
      CapabilityDrop: string[];
    };
    Resources: { Limits: { NanoCPUs: number; MemoryBytes: number; Pids: number } };
    RestartPolicy: { Condition: 'any'; MaxAttempts: number };
    Placement: { Constraints?: string[] };
    Networks: Array<{ Target: string; Aliases: string[] }>;
    ForceUpdate: number;
  };
  Mode: { Replicated: { Replicas: number } };
  EndpointSpec: { Mode: 'dnsrr'; Ports?: Array<{ PublishedPort?: number }> };
}

export interface ServiceSpecOptions {
  replicas: number;
  /** Bumped to restart the tasks without a change. */
  forceUpdate?: number;
}

/** Pure: spec + env-file values + network -> the swarm ServiceSpec (replicas 1 when started, 0 when stopped). */
export function specToService(spec: ContainerSpec, env: Record<string, string>, network: NetworkSpec, options: ServiceSpecOptions): ServiceSpec {
  return {
    Name: spec.name,
    Labels: { ...spec.labels, 'com.docker.stack.image': spec.image },
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Labels: { ...spec.labels },
        Args: [...spec.command],
        Hostname: spec.hostname,
        Env: serviceEnv(spec, env),
        User: spec.user,
        Init: spec.init,
        // Engines whose service API knows it keep it; older ones drop it, and doctor says so.
        Privileges: { NoNewPrivileges: spec.securityOpt.includes('no-new-privileges:true') },
        Mounts: spec.mounts.map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
        Healthcheck: dockerHealthcheck(spec.healthcheck),
        CapabilityDrop: [...spec.capDrop],
      },
      Resources: {
        Limits: { NanoCPUs: Math.round(spec.limits.cpus * NS_PER_SECOND), MemoryBytes: spec.limits.memoryBytes, Pids: spec.limits.pids },
      },
      // Docker's own defaults (10 s to stop, 5 s between restarts), left unset as the stack file leaves them.
      RestartPolicy: { Condition: 'any', MaxAttempts: 0 },
      Placement: spec.node === undefined ? {} : { Constraints: [`node.hostname == ${spec.node}`] },
      Networks: [{ Target: network.name, Aliases: [userOf(spec)] }],
      ForceUpdate: options.forceUpdate ?? 0,
    },
    Mode: { Replicated: { Replicas: options.replicas } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/**
 * Pure: what the relay is made of; a change recreates it. Not the image: the
 * relay only needs node from it, and an upgrade (or its rollback) must not
 * drop every open connection twice.
 */
export function relayHash(spec: ContainerSpec, network: NetworkSpec): string {
  const parts = [spec.user, spec.hostPort, spec.containerPort, network.name, network.gateway, spec.name, RELAY_SCRIPT];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Pure: the relay container of a user's service: hardened, on her overlay at its fixed address, published on 127.0.0.1 only. */
export function relayCreateOptions(spec: ContainerSpec, network: NetworkSpec): Docker.ContainerCreateOptions {
  const port = `${spec.containerPort}/tcp`;
  const labels = Object.fromEntries(Object.entries(spec.labels).filter(([k]) => k !== LABEL_SPEC_HASH && !k.startsWith('com.docker.')));
  return {
    name: relayName(spec.name),
    Image: spec.image,
    Entrypoint: ['node'],
    Cmd: ['-e', RELAY_SCRIPT],
    User: spec.user,
    Env: [`OCM_RELAY_TARGET=${spec.name}`, `OCM_RELAY_PORT=${spec.containerPort}`],
    Labels: { ...labels, [LABEL_ROLE]: 'relay', [LABEL_SPEC_HASH]: relayHash(spec, network) },
    ExposedPorts: { [port]: {} },
    HostConfig: {
      PortBindings: { [port]: [{ HostIp: spec.hostIp, HostPort: String(spec.hostPort) }] },
      NanoCpus: NS_PER_SECOND,
      Memory: RELAY_MEMORY,
      MemorySwap: RELAY_MEMORY,
      PidsLimit: 64,
      Init: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      NetworkMode: network.name,
      Privileged: false,
    },
    NetworkingConfig: {
      EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: network.gateway } } },
    },
  };
}

/** Pure: the create options of a relay as Docker describes it, to make it again the same. */
export function relayFromInspect(info: Docker.ContainerInspectInfo): Docker.ContainerCreateOptions {
  const networks = Object.entries(info.NetworkSettings.Networks ?? {});
  return {
    name: info.Name.replace(/^\//, ''),
    Image: info.Config.Image,
    Entrypoint: info.Config.Entrypoint,
    Cmd: info.Config.Cmd,
    User: info.Config.User,
    Env: info.Config.Env,
    Labels: info.Config.Labels,
    ExposedPorts: info.Config.ExposedPorts,
    HostConfig: info.HostConfig,
    NetworkingConfig: {
      EndpointsConfig: Object.fromEntries(networks.map(([name, n]) => {
        const address = (n.IPAMConfig as { IPv4Address?: string } | undefined)?.IPv4Address;
        return [name, address === undefined ? {} : { IPAMConfig: { IPv4Address: address } }];
      })),
    },
  };
}
