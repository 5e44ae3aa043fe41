// A deployment root with real fixture gateways for daemon tests: made by the
// real CLI, with its own port range, subnet pool and project name so roots
// of parallel test runs never collide, and everything it started removed
// when the test ends (also on failure).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ocm } from '../../../../test/helpers/cli.js';
import { FIXTURE_IMAGE, RUN_ID, ensureFixtureImage, freePort, getDocker } from '../../../../test/support/docker.js';

export interface TestRoot {
  root: string;
  proxyPort: number;
  portBase: number;
}

export interface RootOptions {
  /** Text appended under `settings:` handling is up to the caller; this replaces whole lines. */
  edit?: (yaml: string) => string;
  proxyMode?: 'embedded' | 'nginx';
}

let counter = 0;

/** Removes every container and network ocm made for this root. */
export async function reapRoot(root: string): Promise<void> {
  const docker = getDocker();
  const filters = JSON.stringify({ label: [`ocm.root=${root}`] });
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}

export async function makeRoot(t: TestContext, options: RootOptions = {}): Promise<TestRoot> {
  await ensureFixtureImage();
  const dir = mkdtempSync(join(tmpdir(), 'ocm-daemon-'));
  const root = `${dir}/root`;
  // Below the ephemeral range (32768+) and the default range (18800+), so no listener or other root collides.
  const slot = (process.pid * 13 + counter++ * 7 + Math.floor(Math.random() * 50)) % 190;
  const portBase = 11000 + slot * 40;
  const proxyPort = await freePort();
  const args = ['init', '--image', FIXTURE_IMAGE, '--listen', `127.0.0.1:${proxyPort}`, ...(options.proxyMode === 'nginx' ? ['--proxy', 'nginx'] : [])];
  const init = await ocm(args, { root });
  if (init.code !== 0) throw new Error(`ocm init failed: ${init.stderr}`);
  // One hook, registered before any container can exist: containers first, then their files.
  t.after(async () => {
    await ocm(['down'], { root });
    await reapRoot(root);
    rmSync(dir, { recursive: true, force: true });
  });
  const path = `${root}/ocm.yaml`;
  let yaml = readFileSync(path, 'utf8')
    .replace(/  ports:\n    base: \d+\n    max: \d+/, `  ports:\n    base: ${portBase}\n    max: ${portBase + 39}`)
    .replace(/  network:\n    pool: [^\n]+/, `  network:\n    pool: 10.${60 + (slot % 150)}.0.0/16`)
    .replace(/  project: ocm\n/, `  project: d${slot}${RUN_ID.slice(-5).replace(/[^a-z0-9]/g, '')}\n`)
    .replace(/  labels: \{\}\n/, `  labels:\n    ocm.test: "1"\n    ocm.test.run: "${RUN_ID}"\n`)
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
