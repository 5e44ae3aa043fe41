// A deployment root for tests that start real gateways: fixture image, its
// own port range and subnet pool (so roots never collide), every object
// labelled ocm.test=1, and all of it removed when the test ends.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { HostIptables, removePolicy } from '@ocm/netpolicy';
import { getDocker, waitTasksGone, ensureFixtureImage, ensureGatewayImage, FIXTURE_IMAGE, GATEWAY_IMAGE, RUN_ID, freePort } from '../support/docker.js';
import { ocm } from './cli.js';

export interface TestRoot {
  root: string; portBase: number; proxyPort: number; pool: string; project: string;
  /** Runs `stop` when the test ends, before the root is taken down: for processes that write into it. */
  stopFirst: (stop: () => Promise<void>) => void;
}

let counter = 0;

/** Removes every container and network ocm made for this root, and its network policy when the project is given. */
export async function reapRoot(root: string, project?: string): Promise<void> {
  const docker = getDocker();
  const filters = JSON.stringify({ label: [`ocm.root=${root}`] });
  // A swarm root's services first, or swarm starts their tasks again.
  const services = await docker.listServices({ filters: { label: [`ocm.root=${root}`] } }).catch(() => []);
  for (const s of services) await docker.getService(s.ID).remove().catch(() => undefined);
  if (services.length > 0) await waitTasksGone(docker, services.map((s) => s.ID));
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  if (project !== undefined) await removePolicy(new HostIptables(), project).catch(() => undefined);
}

export interface TestRootOptions {
  /** Run the real OpenClaw gateway (ocm-openclaw:<version>) instead of the fixture. */
  real?: boolean;
  image?: string;
  healthTimeoutSeconds?: number;
  extra?: string;
  /** `ocm init --engine swarm`: the engine must be a swarm manager (see ensureSwarm). */
  engine?: 'swarm';
}

export async function testRoot(t: TestContext, options: TestRootOptions = {}): Promise<TestRoot> {
  if (options.real) await ensureGatewayImage();
  else await ensureFixtureImage();
  const image = options.image ?? (options.real ? GATEWAY_IMAGE : FIXTURE_IMAGE);
  const dir = mkdtempSync(join(tmpdir(), 'ocm-rt-'));
  const root = `${dir}/root`;
  // Spread concurrent roots over distinct ranges: pid and a counter pick the slot.
  const slot = (process.pid * 7 + counter++) % 400;
  const portBase = 20000 + slot * 50;
  const pool = `10.${100 + (slot % 150)}.0.0/16`;
  const proxyPort = await freePort();
  const project = `t${slot}${RUN_ID.slice(-4).replace(/[^a-z0-9]/g, '')}`.slice(0, 16);
  const init = await ocm(['init', '--image', image, '--listen', `127.0.0.1:${proxyPort}`, ...(options.engine === undefined ? [] : ['--engine', options.engine])], { root });
  if (init.code !== 0) throw new Error(init.stderr);
  const path = `${root}/ocm.yaml`;
  const text = readFileSync(path, 'utf8')
    .replace(/ {2}ports:\n {4}base: \d+\n {4}max: \d+/, `  ports:\n    base: ${portBase}\n    max: ${portBase + 49}`)
    .replace(/ {2}network:\n {4}pool: [^\n]+/, `  network:\n    pool: ${pool}`)
    .replace('  project: ocm', `  project: ${project}`)
    .replace('  labels: {}', `  labels:\n    ocm.test: "1"\n    ocm.test.run: "${RUN_ID}"`)
    .replace(/timeoutSeconds: \d+/, `timeoutSeconds: ${options.healthTimeoutSeconds ?? (options.real ? 240 : 60)}`)
    + (options.extra ?? '');
  writeFileSync(path, text);
  // One hook, in order: what writes into the root stops first (last started,
  // first stopped); `ocm down` needs the root's files, so they go last.
  const writers: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of writers.reverse()) await stop().catch(() => undefined);
    await ocm(['down'], { root });
    await reapRoot(root, project);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });
  return { root, portBase, proxyPort, pool, project, stopFirst: (stop) => void writers.push(stop) };
}

export { FIXTURE_IMAGE, GATEWAY_IMAGE };
