// Hand-built deployments matching plan-types, so engine tests do not depend
// on the core planner; every object is labelled for scoping and reaping.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LABEL_MANAGED,
  LABEL_ROOT,
  LABEL_SPEC_HASH,
  LABEL_USER,
  type ContainerSpec,
  type UserDeployment,
} from '@ocm/core';
import { FIXTURE_IMAGE, freePort, testLabels } from '../../../test/support/docker.js';

export interface TestRun {
  /** Name prefix for this test process' users, e.g. t1a2b3c. */
  id: string;
  /** Unique deployment root; also the ocm.root label value. */
  root: string;
}

export interface UserOptions {
  image?: string;
  env?: Record<string, string>;
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
  hostPort?: number;
  /** x.y.z.0/24; random 10.A.B.0/24 when omitted. */
  subnet?: string;
}

const HEALTH_JS =
  "fetch('http://127.0.0.1:18789/healthz').then(r=>r.json()).then(j=>process.exit(j.ok?0:1)).catch(()=>process.exit(1))";

export function randomSubnet(): string {
  const a = 160 + Math.floor(Math.random() * 80);
  const b = Math.floor(Math.random() * 256);
  return `10.${a}.${b}.0/24`;
}

/** Create the user's dirs (owned by 1000, 0700) and 0600 env file, pick a free port, and build the deployment. */
export async function makeUser(run: TestRun, short: string, options: UserOptions = {}): Promise<UserDeployment> {
  const user = userSpec(run, short, { ...options, hostPort: options.hostPort ?? (await freePort()) });
  for (const mount of user.container.mounts) {
    await mkdir(mount.source, { recursive: true });
    await chown(mount.source, 1000, 1000);
    await chmod(mount.source, 0o700);
  }
  await writeFile(user.container.envFile, `# test secrets\nOPENCLAW_GATEWAY_TOKEN=${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  return user;
}

/** Pure: the deployment for `short` (e.g. "alice") under run.root. */
export function userSpec(run: TestRun, short: string, options: UserOptions = {}): UserDeployment {
  const name = `${run.id}-${short}`;
  const dir = join(run.root, 'users', name);
  const subnet = options.subnet ?? randomSubnet();
  const common = { ...testLabels(), [LABEL_MANAGED]: '1', [LABEL_USER]: name, [LABEL_ROOT]: run.root };
  const container: ContainerSpec = {
    name: `ocm-${name}`,
    hostname: short,
    image: options.image ?? FIXTURE_IMAGE,
    command: ['node', 'openclaw.mjs', 'gateway', '--allow-unconfigured', '--bind', 'lan', '--port', '18789'],
    user: '1000:1000',
    env: {
      HOME: '/home/node',
      OPENCLAW_STATE_DIR: '/home/node/.openclaw',
      OPENCLAW_CONFIG_PATH: '/home/node/.openclaw/openclaw.json',
      OPENCLAW_WORKSPACE_DIR: '/home/node/.openclaw/workspace',
      TZ: 'UTC',
      OCM_FIXTURE_USER: name,
      ...options.env,
    },
    envFile: join(dir, 'env'),
    mounts: [
      { source: join(dir, 'state'), target: '/home/node/.openclaw', readOnly: false },
      { source: join(dir, 'config'), target: '/home/node/.config/openclaw', readOnly: false },
    ],
    containerPort: 18789,
    hostPort: options.hostPort ?? 40000,
    hostIp: '127.0.0.1',
    limits: { cpus: options.cpus ?? 0.5, memoryBytes: options.memoryBytes ?? 256 * 1024 * 1024, pids: options.pids ?? 128 },
    healthcheck: { test: ['CMD', 'node', '-e', HEALTH_JS], intervalSeconds: 1, timeoutSeconds: 1, retries: 3, startPeriodSeconds: 1 },
    restart: 'unless-stopped',
    init: true,
    capDrop: ['ALL'],
    securityOpt: ['no-new-privileges:true'],
    labels: { ...common, 'com.docker.compose.project': 'ocm', 'com.docker.compose.service': name },
  };
  return withHash({
    name,
    enabled: true,
    host: `${name}.example.test`,
    origin: `https://${name}.example.test`,
    network: { name: `ocm-${name}`, subnet, gateway: subnet.replace(/0\/24$/, '1'), labels: { ...common } },
    container,
    specHash: '',
    dirs: [],
  });
}

/** Recompute specHash (and its label) after a test edits the spec, as the core planner would. */
export function withHash(user: UserDeployment): UserDeployment {
  const { labels, ...rest } = user.container;
  const { [LABEL_SPEC_HASH]: _old, ...otherLabels } = labels;
  const specHash = createHash('sha256').update(JSON.stringify({ rest, otherLabels, network: user.network })).digest('hex').slice(0, 16);
  return { ...user, specHash, container: { ...rest, labels: { ...otherLabels, [LABEL_SPEC_HASH]: specHash } } };
}
