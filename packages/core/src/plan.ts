// manifest -> desired deployment. Pure: the same manifest and env files give
// the same plan, and the spec hash changes exactly when a container must be
// recreated.
import { createHash } from 'node:crypto';
import { OcmError, quote } from './errors.js';
import type { Manifest, User } from './manifest-schema.js';
import { parseSize } from './sizes.js';
import { subnetFor } from './network.js';
import { rootLayout } from './root-layout.js';
import {
  GATEWAY_COMMAND, GATEWAY_PORT, HEALTHCHECK_TEST, STATE_TARGET, CONFIG_TARGET, pinnedEnv,
} from './gateway-profile.js';
import {
  LABEL_MANAGED, LABEL_ROOT, LABEL_SPEC_HASH, LABEL_USER,
  type ContainerSpec, type DeploymentPlan, type MeteredProvider, type NetworkSpec, type UserDeployment,
} from './plan-types.js';

export interface PlanInput {
  /** Absolute deployment root. */
  root: string;
  /** Rendered env file text per user (holds the token); part of the spec hash. */
  envFiles: ReadonlyMap<string, string>;
}

const ROOT_PATTERN = /^\/[A-Za-z0-9._\-/]*$/;

export function assertRootPath(root: string): string {
  if (!ROOT_PATTERN.test(root) || root.includes('/../') || root.endsWith('/..')) {
    throw new OcmError('OCM_E_ROOT_INVALID', `deployment root ${quote(root)} must be an absolute path of letters, digits, ".", "_", "-" and "/"`);
  }
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

export function userHost(manifest: Manifest, name: string): string {
  return `${name}.${manifest.settings.domain}`;
}

/** Users are served over HTTPS: a certificate the admin brings, or ACME. */
export function servesHttps(settings: Manifest['settings']): boolean {
  return settings.tls.certificate !== undefined || settings.tls.acme !== undefined;
}

/** The origin a browser uses for a user: scheme, host and a non-default port. */
export function userOrigin(manifest: Manifest, name: string): string {
  const { settings } = manifest;
  const tls = servesHttps(settings);
  const scheme = tls ? 'https' : 'http';
  const embeddedListen = (tls ? settings.proxy.listenTls : undefined) ?? settings.proxy.listen;
  const port = settings.proxy.publicPort ?? (settings.proxy.mode === 'embedded'
    ? Number(embeddedListen.slice(embeddedListen.lastIndexOf(':') + 1))
    : tls ? settings.proxy.nginx.httpsPort : settings.proxy.nginx.httpPort);
  const defaultPort = tls ? 443 : 80;
  return `${scheme}://${userHost(manifest, name)}${port === defaultPort ? '' : `:${port}`}`;
}

export function effectiveLimits(manifest: Manifest, user: User): { cpus: number; memory: string; pids: number } {
  const d = manifest.settings.limits;
  return { cpus: user.cpus ?? d.cpus, memory: user.memory ?? d.memory, pids: user.pids ?? d.pids };
}

/** Does this manifest run its users as swarm services? */
export function onSwarm(manifest: Manifest): boolean {
  return manifest.settings.engine === 'swarm';
}

/**
 * Docker name of a user's container: <project>-<name>; on a swarm, her
 * service's: <project>_<name>, the name `docker stack deploy -c
 * docker-compose.yml <project>` gives it, so the stack and ocm are one.
 */
export function containerName(manifest: Manifest, name: string): string {
  return `${manifest.settings.project}${onSwarm(manifest) ? '_' : '-'}${name}`;
}

/** Docker name of a user's network: <project>-<name>, on either engine. */
export function networkName(manifest: Manifest, name: string): string {
  return `${manifest.settings.project}-${name}`;
}

/** The label `docker stack deploy` finds its stack's services and networks by. */
export const LABEL_STACK = 'com.docker.stack.namespace';

/** "uid:gid" the gateways run as. */
export function gatewayUser(manifest: Manifest): string {
  return `${manifest.settings.gateway.uid}:${manifest.settings.gateway.gid}`;
}

export function userDir(root: string, name: string): string {
  return rootLayout(root).user(name).dir;
}

/**
 * The user's own network: a fixed /28 of the pool, indexed by the port
 * offset. A bridge on one host; on a swarm an overlay, where the address the
 * gateway sees the proxy as is her relay's, the subnet's last.
 */
export function userNetwork(manifest: Manifest, user: User, labels: Record<string, string> = {}): NetworkSpec {
  const subnet = subnetFor(manifest.settings.network.pool, user.port - manifest.settings.ports.base);
  const name = networkName(manifest, user.name);
  if (!onSwarm(manifest)) return { name, subnet: subnet.cidr, gateway: subnet.gateway, labels };
  return { name, subnet: subnet.cidr, gateway: subnet.last, labels: { ...labels, [LABEL_STACK]: manifest.settings.project }, driver: 'overlay' };
}

function containerFor(manifest: Manifest, user: User, root: string, labels: Record<string, string>): ContainerSpec {
  const { settings } = manifest;
  const limits = effectiveLimits(manifest, user);
  const paths = rootLayout(root).user(user.name);
  return {
    name: containerName(manifest, user.name),
    hostname: user.name,
    image: user.image ?? settings.image,
    command: [...GATEWAY_COMMAND],
    user: gatewayUser(manifest),
    env: pinnedEnv(settings.timezone),
    envFile: paths.env,
    mounts: [
      { source: paths.state, target: STATE_TARGET, readOnly: false },
      { source: paths.config, target: CONFIG_TARGET, readOnly: false },
    ],
    containerPort: GATEWAY_PORT,
    hostPort: user.port,
    hostIp: '127.0.0.1',
    limits: { cpus: limits.cpus, memoryBytes: parseSize(limits.memory), pids: limits.pids },
    // A swarm names a task in its DNS only once it is healthy, and Engine 20.10
    // runs the first check one interval after the start: 10 s there, not 30.
    healthcheck: { test: [...HEALTHCHECK_TEST], intervalSeconds: onSwarm(manifest) ? 10 : 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 },
    restart: 'unless-stopped',
    init: true,
    capDrop: ['ALL'],
    securityOpt: ['no-new-privileges:true'],
    labels,
    ...(onSwarm(manifest) && user.node !== undefined ? { node: user.node } : {}),
  };
}

/** Stable JSON: object keys sorted, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The labels on everything ocm creates for a user: the admin's own, plus who it belongs to. */
export function userLabels(manifest: Manifest, name: string, root: string): Record<string, string> {
  return { ...manifest.settings.labels, [LABEL_MANAGED]: '1', [LABEL_USER]: name, [LABEL_ROOT]: root };
}

/** Each configured provider as the user's gateway sees it: behind the meter on its own bridge address. */
export function meteredProviders(manifest: Manifest, bridgeGateway: string): MeteredProvider[] {
  const models = manifest.settings.models;
  if (models === undefined) return [];
  return Object.entries(models.providers).map(([id, p]) => ({ id, api: p.api, baseUrl: `http://${bridgeGateway}:${models.listenPort}/${id}`, models: [...p.models] }));
}

export function planUser(manifest: Manifest, user: User, input: PlanInput): UserDeployment {
  const root = assertRootPath(input.root);
  const baseLabels = userLabels(manifest, user.name, root);
  const network = userNetwork(manifest, user, baseLabels);
  const container = containerFor(manifest, user, root, baseLabels);
  const envText = input.envFiles.get(user.name) ?? '';
  // The hash covers the container and network specs and the env file's digest
  // (a rotated token must recreate the container), never the secret itself.
  const specHash = sha256(canonicalJson({ container, network, env: sha256(envText) })).slice(0, 16);
  container.labels = onSwarm(manifest) ? {
    ...baseLabels,
    [LABEL_SPEC_HASH]: specHash,
    [LABEL_STACK]: manifest.settings.project,
  } : {
    ...baseLabels,
    [LABEL_SPEC_HASH]: specHash,
    'com.docker.compose.project': manifest.settings.project,
    'com.docker.compose.service': user.name,
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.container-number': '1',
    // docker-compose 1.29 compares this label and crashes on containers without it.
    'com.docker.compose.version': '1.29.2',
  };
  const dir = userDir(root, user.name);
  const { uid, gid } = manifest.settings.gateway;
  const metered = meteredProviders(manifest, network.gateway);
  return {
    ...(metered.length === 0 ? {} : { meteredProviders: metered }),
    name: user.name,
    enabled: user.enabled,
    host: userHost(manifest, user.name),
    origin: userOrigin(manifest, user.name),
    network,
    container,
    specHash,
    dirs: [
      { path: dir, mode: 0o755, uid: 0, gid: 0 },
      { path: `${dir}/state`, mode: 0o700, uid, gid },
      { path: `${dir}/config`, mode: 0o700, uid, gid },
    ],
  };
}

export function planDeployment(manifest: Manifest, input: PlanInput): DeploymentPlan {
  const root = assertRootPath(input.root);
  return { root, domain: manifest.settings.domain, users: manifest.users.map((u) => planUser(manifest, u, { ...input, root })) };
}
