// A deployment root for one bench: fixture image, its own project name, port
// range and subnet pool (clear of the test suite's), every Docker object
// labelled ocm.bench=1 plus its root, and all of it (the firewall chains of its
// network policy too) removed when the run ends.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { reapByLabel, reapServices } from './docker.js';
import { freePort } from './ports.js';
import { run, type RunOptions, type RunResult } from './proc.js';

export const FIXTURE_IMAGE = 'ocm-fixture-gateway:latest';

export interface Limits { cpus: number; memory: string; pids: number }

export interface RootOptions {
  /** Container/network prefix and compose project. */
  project: string;
  portBase: number;
  portCount: number;
  /** A /16. */
  pool: string;
  limits: Limits;
  healthTimeoutSeconds?: number;
  runId: string;
  /** Gateway image (default: the fixture). */
  image?: string;
  /** settings.tls: an admin-supplied certificate, served by the daemon's proxy and the rendered nginx confs. */
  tls?: { certificate: string; key: string };
  /** `ocm init --engine swarm` (the engine must manage a swarm). */
  engine?: 'swarm';
}

export interface BenchRoot {
  root: string;
  project: string;
  portBase: number;
  proxyPort: number;
  nginxPort: number;
  /** settings.proxy.nginx.httpsPort: what the rendered confs listen on with settings.tls. */
  nginxHttpsPort: number;
  adminPort: number;
  ocm(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** docker-compose on the rendered file, with this root's project. */
  compose(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Removes this root's containers and networks. */
  reap(): Promise<{ containers: number; networks: number }>;
}

function edit(text: string, from: RegExp | string, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`ocm.yaml: ${String(from)} not found; has the manifest layout changed?`);
  return next;
}

export async function createRoot(ocmBin: string, options: RootOptions): Promise<BenchRoot> {
  const dir = mkdtempSync(join(tmpdir(), `ocm-bench-${options.project}-`));
  const root = join(dir, 'root');
  const removeDir = onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const ocm = (args: readonly string[], runOptions: RunOptions = {}) =>
    run(process.execPath, [ocmBin, '--root', root, ...args], { ...runOptions, env: { ...process.env, OCM_ROOT: '', ...runOptions.env } });
  // Containers and networks by label, at once; then `ocm down` takes the
  // firewall chains of the root's network policy (with no container left, that is all it does).
  const reap = async (): Promise<{ containers: number; networks: number }> => {
    // A swarm root's services first, or swarm starts their tasks again.
    if (options.engine === 'swarm') await reapServices(`ocm.root=${root}`);
    const reaped = await reapByLabel(`ocm.root=${root}`);
    if (existsSync(join(root, 'ocm.yaml'))) await ocm(['down'], { timeoutMs: 120_000 }).catch(() => undefined);
    return reaped;
  };
  onCleanup(`containers of ${root}`, async () => {
    await reap();
    await removeDir();
  });
  const [proxyPort, nginxPort, nginxHttpsPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await ocm(['init', '--image', options.image ?? FIXTURE_IMAGE, '--listen', `127.0.0.1:${proxyPort}`, ...(options.engine === undefined ? [] : ['--engine', options.engine])]);
  const path = join(root, 'ocm.yaml');
  let text = readFileSync(path, 'utf8');
  const { limits } = options;
  text = edit(text, / {2}project: \S+/, `  project: ${options.project}`);
  text = edit(text, / {2}ports:\n {4}base: \d+\n {4}max: \d+/, `  ports:\n    base: ${options.portBase}\n    max: ${options.portBase + options.portCount - 1}`);
  text = edit(text, / {2}network:\n {4}pool: \S+/, `  network:\n    pool: ${options.pool}`);
  text = edit(text, / {2}labels: \{\}/, `  labels:\n    ocm.bench: "1"\n    ocm.bench.run: "${options.runId}"`);
  text = edit(text, / {2}limits:\n {4}cpus: \S+\n {4}memory: \S+\n {4}pids: \S+/, `  limits:\n    cpus: ${limits.cpus}\n    memory: ${limits.memory}\n    pids: ${limits.pids}`);
  text = edit(text, /httpPort: \d+/, `httpPort: ${nginxPort}`);
  text = edit(text, /httpsPort: \d+/, `httpsPort: ${nginxHttpsPort}`);
  if (options.tls !== undefined) text = edit(text, / {2}tls: \{\}/, `  tls:\n    certificate: ${options.tls.certificate}\n    key: ${options.tls.key}`);
  text = edit(text, /listenAddress: ""/, 'listenAddress: 127.0.0.1');
  text = edit(text, / {2}admin:\n {4}listen: \S+/, `  admin:\n    listen: 127.0.0.1:${adminPort}`);
  text = edit(text, /timeoutSeconds: \d+/, `timeoutSeconds: ${options.healthTimeoutSeconds ?? 180}`);
  writeFileSync(path, text);
  await ocm(['render']);
  return {
    root,
    project: options.project,
    portBase: options.portBase,
    proxyPort,
    nginxPort,
    nginxHttpsPort,
    adminPort,
    ocm,
    compose: (args, runOptions = {}) =>
      run('docker-compose', ['-f', join(root, 'docker-compose.yml'), '-p', options.project, ...args], { ...runOptions, env: { ...process.env, ...runOptions.env } }),
    reap,
  };
}

/** The host port ocm gave each user, from the manifest (`users: - name: x / port: n`). */
export function userPorts(root: string): Map<string, number> {
  const text = readFileSync(join(root, 'ocm.yaml'), 'utf8');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/- name: (\S+)\n\s+port: (\d+)/g)) out.set(m[1] as string, Number(m[2]));
  return out;
}
