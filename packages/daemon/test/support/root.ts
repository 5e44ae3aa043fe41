// A deployment root with real fixture gateways for daemon tests: made by the
// real CLI, with its own port range, subnet pool and project name so roots
// of parallel test runs never collide, and everything it started removed
// when the test ends (also on failure).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { HostIptables, removePolicy } from '@ocm/netpolicy';
import { ocm } from '../../../../test/helpers/cli.js';
import { FIXTURE_IMAGE, RUN_ID, ensureFixtureImage, freePort, getDocker } from '../../../../test/support/docker.js';

export interface TestRoot {
  root: string;
  proxyPort: number;
  portBase: number;
}

export interface RootOptions {
  /** Last edit of the ocm.yaml text, before any user exists. */
  edit?: (yaml: string) => string;
  proxyMode?: 'embedded' | 'nginx';
}

// Handed out by this process already: its roots make their networks and bind their ports only later.
const takenPools = new Set<string>();
const takenBases = new Set<number>();

/** A /16 of 10.0.0.0/8 that no Docker network on this host uses yet (other test runs included). */
async function freePool(): Promise<string> {
  const networks = await getDocker().listNetworks();
  const used = new Set(networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => /^10\.(\d+)\./.exec(c.Subnet ?? '')?.[1])).filter((x) => x !== undefined));
  const candidates = Array.from({ length: 200 }, (_, i) => String(40 + i)).filter((x) => !used.has(x) && !takenPools.has(x));
  const pick = candidates[Math.floor(Math.random() * candidates.length)];
  if (pick === undefined) throw new Error('no free 10.x.0.0/16 for a test root');
  takenPools.add(pick);
  return `10.${pick}.0.0/16`;
}

/** A run of 40 ports below the ephemeral range (32768+) and the default range (18800+) whose first ones are free now. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 11000 + Math.floor(Math.random() * 190) * 40;
    if (takenBases.has(base)) continue;
    const free = await Promise.all(Array.from({ length: 8 }, (_, i) => canListen(base + i)));
    if (!free.every(Boolean)) continue;
    takenBases.add(base);
    return base;
  }
  throw new Error('no free port range for a test root');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Removes every container and network ocm made for this root, and its network policy when the project is given. */
export async function reapRoot(root: string, project?: string): Promise<void> {
  const docker = getDocker();
  const filters = JSON.stringify({ label: [`ocm.root=${root}`] });
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  if (project !== undefined) await removePolicy(new HostIptables(), project).catch(() => undefined);
}

export async function makeRoot(t: TestContext, options: RootOptions = {}): Promise<TestRoot> {
  await ensureFixtureImage();
  const dir = mkdtempSync(join(tmpdir(), 'ocm-daemon-'));
  const root = `${dir}/root`;
  const portBase = await freePortBase();
  const pool = await freePool();
  const project = `d${(portBase / 40).toString(36)}${RUN_ID.slice(-5).replace(/[^a-z0-9]/g, '')}`.slice(0, 16);
  const proxyPort = await freePort();
  const args = ['init', '--image', FIXTURE_IMAGE, '--listen', `127.0.0.1:${proxyPort}`, ...(options.proxyMode === 'nginx' ? ['--proxy', 'nginx'] : [])];
  const init = await ocm(args, { root });
  if (init.code !== 0) throw new Error(`ocm init failed: ${init.stderr}`);
  // One hook, registered before any container can exist: containers first, then their files.
  t.after(async () => {
    await ocm(['down'], { root });
    await reapRoot(root, project);
    rmSync(dir, { recursive: true, force: true });
  });
  const path = `${root}/ocm.yaml`;
  let yaml = readFileSync(path, 'utf8')
    .replace(/ {2}ports:\n {4}base: \d+\n {4}max: \d+/, `  ports:\n    base: ${portBase}\n    max: ${portBase + 39}`)
    .replace(/ {2}network:\n {4}pool: [^\n]+/, `  network:\n    pool: ${pool}`)
    .replace(/ {2}project: ocm\n/, `  project: ${project}\n`)
    .replace(/ {2}labels: \{\}\n/, `  labels:\n    ocm.test: "1"\n    ocm.test.run: "${RUN_ID}"\n`)
    .replace(/timeoutSeconds: \d+/, 'timeoutSeconds: 30');
  if (options.edit !== undefined) yaml = options.edit(yaml);
  writeFileSync(path, yaml);
  return { root, proxyPort, portBase };
}

/** `ocm <args>` in this root; fails the test with the CLI's stderr when it fails. */
export async function cli(root: string, ...args: string[]): Promise<string> {
  const r = await ocm(args, { root });
  if (r.code !== 0) throw new Error(`ocm ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

/** The user's gateway token, read from their env file (as `ocm token` does, without starting a process). */
export function tokenOf(root: string, name: string): string {
  const token = /^OPENCLAW_GATEWAY_TOKEN=(.+)$/m.exec(readFileSync(`${root}/users/${name}/env`, 'utf8'))?.[1];
  if (token === undefined) throw new Error(`no token in ${root}/users/${name}/env`);
  return token;
}
