// The desired deployment: what the pure core derives from the manifest and
// what the effectful packages (engine, proxy, store) apply. Plain data only.

/** Labels every ocm-owned Docker object carries. Objects without LABEL_MANAGED are never touched. */
export const LABEL_MANAGED = 'ocm.managed';
export const LABEL_USER = 'ocm.user';
export const LABEL_SPEC_HASH = 'ocm.spec-hash';
export const LABEL_ROOT = 'ocm.root';

export interface MountSpec {
  /** Absolute host path. */
  source: string;
  /** Absolute container path. */
  target: string;
  readOnly: boolean;
}

export interface LimitsSpec {
  /** Fractional CPUs, e.g. 1.5. */
  cpus: number;
  /** Hard memory limit in bytes. */
  memoryBytes: number;
  /** Maximum number of processes/threads. */
  pids: number;
}

export interface HealthcheckSpec {
  /** Docker healthcheck test, CMD form: ['CMD', 'node', '-e', '...']. */
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface NetworkSpec {
  /** Docker network name, e.g. ocm-alice. */
  name: string;
  /** Subnet in CIDR form, fixed so the proxy address is known at render time. */
  subnet: string;
  /**
   * The address the gateway sees the proxy as: the bridge gateway on one
   * host; on a swarm, the fixed address of the user's relay on her overlay.
   */
  gateway: string;
  labels: Record<string, string>;
  /** Absent: a bridge on this host. overlay: an attachable swarm overlay network. */
  driver?: 'overlay';
}

export interface ContainerSpec {
  /** Docker container name, e.g. ocm-alice. */
  name: string;
  /**
   * Stable across recreates (the user's name): the gateway records its host
   * name in its owner lease and only reclaims a dead owner's lease on the same
   * host, so a container id as host name would block every new container.
   */
  hostname: string;
  image: string;
  command: string[];
  /** "uid:gid" */
  user: string;
  /** Non-secret environment (pinned paths, TZ). Secrets live only in envFile. */
  env: Record<string, string>;
  /** Absolute path of the 0600 env file (OPENCLAW_GATEWAY_TOKEN, user keys). */
  envFile: string;
  mounts: MountSpec[];
  /** Container port the gateway listens on (18789). */
  containerPort: number;
  /** Host port, always published on 127.0.0.1 only. */
  hostPort: number;
  hostIp: '127.0.0.1';
  limits: LimitsSpec;
  healthcheck: HealthcheckSpec;
  restart: 'unless-stopped';
  init: true;
  capDrop: ['ALL'];
  securityOpt: ['no-new-privileges:true'];
  labels: Record<string, string>;
  /** On a swarm: the node (host name) the user's service is pinned to. */
  node?: string;
}

export interface UserDeployment {
  name: string;
  enabled: boolean;
  /** Public hostname, e.g. alice.example.com. */
  host: string;
  /** Public origin the browser uses, e.g. https://alice.example.com. */
  origin: string;
  network: NetworkSpec;
  container: ContainerSpec;
  /** sha256 over everything that should trigger a recreate when it changes. */
  specHash: string;
  /** Directories to create (absolute), with mode and owner. */
  dirs: Array<{ path: string; mode: number; uid: number; gid: number }>;
  /** Model providers this gateway reaches through the meter (no keys: the store adds the user's own). */
  meteredProviders?: MeteredProvider[];
}

export interface MeteredProvider {
  id: string;
  api: 'openai-completions' | 'openai-responses' | 'anthropic-messages';
  /** The meter's address on the user's own bridge network, e.g. http://10.231.0.1:18790/openai. */
  baseUrl: string;
  models: string[];
}

export interface DeploymentPlan {
  root: string;
  domain: string;
  users: UserDeployment[];
}
