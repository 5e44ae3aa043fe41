// Helpers for tests against the real Docker Engine: the fixture gateway image,
// labelled test objects, unique names, ports, temp dirs and reliable cleanup.
//
// Every object a test creates must carry TEST_LABEL=1 (use testLabels()), so
// that `reapTestObjects()` can remove leftovers of crashed runs. Test files run
// in parallel processes: inside a test, clean up only your own objects (the
// `cleanup(t)` helper, or `reapTestObjects(docker, { run: RUN_ID })`); call
// `reapTestObjects()` without a run filter only when no tests are running.
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { httpJson, waitFor } from './wait.js';

export const TEST_LABEL = 'ocm.test';
/** Second label: the test process that created an object. */
export const RUN_LABEL = 'ocm.test.run';
export const FIXTURE_IMAGE = 'ocm-fixture-gateway:latest';
export const GATEWAY_PORT = 18789;

/** Identifies this test process; objects labelled with it belong to it. */
export const RUN_ID = `${process.pid.toString(36)}${crypto.randomBytes(3).toString('hex')}`;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/gateway');
export const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts/build-fixture-image.sh');

const execFileP = promisify(execFile);

let client: Docker | undefined;
/** A shared dockerode client (honours DOCKER_HOST, else /var/run/docker.sock). */
export function getDocker(): Docker {
  client ??= new Docker();
  return client;
}

/** Labels for every object a test creates: TEST_LABEL=1 and this process' RUN_ID. */
export function testLabels(extra: Record<string, string> = {}): Record<string, string> {
  return { [TEST_LABEL]: '1', [RUN_LABEL]: RUN_ID, ...extra };
}

/** True when the engine answers a ping within 3 s. */
export async function dockerAvailable(docker: Docker = getDocker()): Promise<boolean> {
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), 3_000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? (err as { statusCode?: number }).statusCode : undefined;
}

const building = new Map<string, Promise<void>>();

/**
 * Makes sure the fixture image exists: builds it with scripts/build-fixture-image.sh
 * when it is missing or older than the fixture sources. Once per process and tag.
 */
export function ensureFixtureImage(tag: string = FIXTURE_IMAGE, docker: Docker = getDocker()): Promise<void> {
  let p = building.get(tag);
  if (!p) {
    p = (async () => {
      let created: number | undefined;
      try {
        created = Date.parse((await docker.getImage(tag).inspect()).Created);
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
      const sources = [path.join(FIXTURE_DIR, 'openclaw.mjs'), BUILD_SCRIPT];
      const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
      if (created !== undefined && created >= newest) return;
      try {
        await execFileP('bash', [BUILD_SCRIPT, tag], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`building ${tag} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    })();
    building.set(tag, p);
    p.catch(() => building.delete(tag));
  }
  return p;
}

/** The real OpenClaw gateway, built offline by scripts/build-gateway-image.sh. */
export const OPENCLAW_VERSION = process.env.OCM_TEST_OPENCLAW_VERSION ?? '2026.9.6';
export const GATEWAY_IMAGE = `ocm-openclaw:${OPENCLAW_VERSION}`;
export const GATEWAY_BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts/build-gateway-image.sh');

/**
 * Makes sure the real gateway image exists (the script is idempotent and
 * reuses an image whose inputs did not change; .ci/run builds it up front).
 * Extra tags point at the same image, e.g. for upgrade tests.
 */
export function ensureGatewayImage(extraTags: string[] = []): Promise<void> {
  const key = `gateway:${extraTags.join(',')}`;
  let p = building.get(key);
  if (!p) {
    p = (async () => {
      try {
        await execFileP('bash', [GATEWAY_BUILD_SCRIPT, OPENCLAW_VERSION, GATEWAY_IMAGE], {
          cwd: REPO_ROOT,
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, OCM_GATEWAY_TAGS: extraTags.join(' ') },
        });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`building ${GATEWAY_IMAGE} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    })();
    building.set(key, p);
    p.catch(() => building.delete(key));
  }
  return p;
}

export interface ReapResult {
  services: number;
  containers: number;
  networks: number;
  volumes: number;
}

/** Until the tasks of removed services have left their networks (at most 60 s). */
export async function waitTasksGone(docker: Docker, serviceIds: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const left = (await docker.listTasks().catch(() => [])) as Array<{ ServiceID?: string }>;
    if (!left.some((t) => serviceIds.includes(t.ServiceID ?? ''))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Removes every service, container (forced, with anonymous volumes), then network and
 * volume labelled TEST_LABEL=1; with `run`, only those of that test process.
 */
export async function reapTestObjects(docker: Docker = getDocker(), opts: { run?: string } = {}): Promise<ReapResult> {
  const label = [`${TEST_LABEL}=1`];
  if (opts.run) label.push(`${RUN_LABEL}=${opts.run}`);
  const filters = { label };
  const ignoreGone = (err: unknown) => {
    const code = statusCode(err);
    if (code !== 404 && code !== 409) throw err;
  };
  const result: ReapResult = { services: 0, containers: 0, networks: 0, volumes: 0 };
  // Services first, or swarm starts their task containers again. Without a swarm there are none.
  const services = await docker.listServices({ filters }).catch(() => []);
  for (const s of services) {
    try {
      await docker.getService(s.ID).remove();
      result.services++;
    } catch (err) {
      ignoreGone(err);
    }
  }
  if (services.length > 0) await waitTasksGone(docker, services.map((s) => s.ID));

  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map(async (c) => {
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
      result.containers++;
    } catch (err) {
      ignoreGone(err);
    }
  }));
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
      result.networks++;
    } catch (err) {
      ignoreGone(err);
    }
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    try {
      await docker.getVolume(v.Name).remove({ force: true });
      result.volumes++;
    } catch (err) {
      ignoreGone(err);
    }
  }
  return result;
}

/**
 * A short unique DNS label: lowercase letters, digits and '-', starting with a
 * letter, at most 30 characters (room for derived names such as `ocm-<name>-net`).
 */
export function uniqueName(prefix = 't'): string {
  let p = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  if (!p) p = 't';
  p = p.slice(0, 21).replace(/-+$/, '');
  const suffix = crypto.randomBytes(6).readUIntBE(0, 6).toString(36).padStart(8, '0').slice(-8);
  return `${p}-${suffix}`;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. Prefer letting Docker pick (see runFixture). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Anything with node:test's `after(fn)`: a TestContext, a SuiteContext, or `{ after }` from node:test. */
export interface AfterHook {
  after(fn: () => unknown): unknown;
}

/**
 * Removes a directory tree, also when containers left files in it that this
 * user may not delete (uid 1000, mode 0700): then it retries as root inside
 * the fixture image.
 */
export async function removeTree(dir: string, docker: Docker = getDocker()): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
  }
  const c = await docker.createContainer({
    Image: FIXTURE_IMAGE,
    User: '0:0',
    Entrypoint: ['node', '-e', "const fs=require('fs');for(const f of fs.readdirSync('/x'))fs.rmSync('/x/'+f,{recursive:true,force:true})"],
    Labels: testLabels(),
    HostConfig: { Binds: [`${dir}:/x`], AutoRemove: false },
  });
  try {
    await c.start();
    await c.wait();
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
  await fs.promises.rm(dir, { recursive: true, force: true });
}

const exitDirs = new Set<string>();
let exitHookInstalled = false;

/**
 * Creates a fresh temp directory (mode 0755 so containers can traverse it).
 * It is removed by `t.after` when a test context is given, else at process exit.
 */
export function tmpRoot(t?: AfterHook, prefix = 'ocm-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  if (t) {
    t.after(() => removeTree(dir).catch((err) => console.warn(`cleanup: could not remove ${dir}: ${String(err)}`)));
  } else {
    exitDirs.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const d of exitDirs) {
          try {
            fs.rmSync(d, { recursive: true, force: true });
          } catch {
            // best effort: root-owned leftovers are reaped by the next CI run
          }
        }
      });
    }
  }
  return dir;
}

/**
 * Collects things to undo and undoes them in reverse order, each step
 * independently, so one failure does not leak the rest.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; fn: () => Promise<unknown> }> = [];
  constructor(private readonly docker: Docker = getDocker()) {}

  /** Registers any async undo step. */
  defer(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn: async () => fn() });
  }

  container(idOrName: string): string {
    this.defer(`container ${idOrName}`, () => this.docker.getContainer(idOrName).remove({ force: true, v: true }));
    return idOrName;
  }

  network(idOrName: string): string {
    this.defer(`network ${idOrName}`, () => this.docker.getNetwork(idOrName).remove());
    return idOrName;
  }

  volume(name: string): string {
    this.defer(`volume ${name}`, () => this.docker.getVolume(name).remove({ force: true }));
    return name;
  }

  dir(dir: string): string {
    this.defer(`dir ${dir}`, () => removeTree(dir, this.docker));
    return dir;
  }

  /** Runs all steps (newest first); errors other than "already gone" are returned and logged. */
  async run(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step.fn();
      } catch (err) {
        const code = statusCode(err);
        if (code === 404) continue;
        const e = new Error(`cleanup of ${step.what} failed: ${err instanceof Error ? err.message : String(err)}`);
        errors.push(e);
        console.warn(e.message);
      }
    }
    return errors;
  }
}

/**
 * A Cleanup bound to a test: `const c = cleanup(t); c.container(id)`. It runs in
 * `t.after`, i.e. also when the test fails or throws.
 */
export function cleanup(t: AfterHook, docker: Docker = getDocker()): Cleanup {
  const c = new Cleanup(docker);
  t.after(() => c.run());
  return c;
}

export interface FixtureOptions {
  name?: string;
  token?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Extra HostConfig fields (Binds, Memory, PidsLimit, NetworkMode, ...). */
  hostConfig?: Docker.HostConfig;
  /** Publish 18789 on 127.0.0.1 (default true; Docker picks the host port). */
  publish?: boolean;
  /** Wait until /healthz reports ok (default true when published). */
  waitHealthy?: boolean;
  cmd?: string[];
  image?: string;
}

export interface RunningFixture {
  id: string;
  name: string;
  token: string;
  /** Host port on 127.0.0.1, 0 when not published. */
  port: number;
  /** http://127.0.0.1:<port> (empty when not published). */
  url: string;
  container: Docker.Container;
}

/**
 * Starts a hardened fixture gateway container labelled for tests and registered
 * with `c` for removal.
 */
export async function runFixture(c: Cleanup, opts: FixtureOptions = {}, docker: Docker = getDocker()): Promise<RunningFixture> {
  const image = opts.image ?? FIXTURE_IMAGE;
  await ensureFixtureImage(image, docker);
  const name = opts.name ?? uniqueName('ocm-fx');
  const token = opts.token ?? crypto.randomBytes(16).toString('hex');
  const publish = opts.publish ?? true;
  const env = { OPENCLAW_GATEWAY_TOKEN: token, OCM_FIXTURE_USER: name, ...opts.env };
  const container = await docker.createContainer({
    name,
    Image: image,
    ...(opts.cmd ? { Cmd: opts.cmd } : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: testLabels(opts.labels),
    ExposedPorts: { [`${GATEWAY_PORT}/tcp`]: {} },
    HostConfig: {
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: 256,
      Memory: 256 * 1024 * 1024,
      ...(publish ? { PortBindings: { [`${GATEWAY_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
      ...opts.hostConfig,
    },
  });
  c.container(container.id);
  await container.start();
  let port = 0;
  if (publish) {
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports?.[`${GATEWAY_PORT}/tcp`]?.[0];
    port = Number(binding?.HostPort ?? 0);
    if (!port) throw new Error(`container ${name}: port ${GATEWAY_PORT} was not published`);
  }
  const url = port ? `http://127.0.0.1:${port}` : '';
  if (url && (opts.waitHealthy ?? true)) {
    const failWithLogs = async (why: string): Promise<never> => {
      const logs = (await containerLogs(container)).trimEnd().split('\n').slice(-40).join('\n');
      throw new Error(`${why}\n--- last logs of ${name} ---\n${logs}`);
    };
    let outcome: { exited: number } | { healthy: true };
    try {
      outcome = await waitFor(async () => {
        const state = (await container.inspect()).State;
        if (!state.Running) return { exited: state.ExitCode };
        const r = await httpJson<{ ok?: unknown }>(`${url}/healthz`, { timeoutMs: 2_000 });
        if (r.json?.ok === true) return { healthy: true as const };
        throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
      }, { what: `fixture ${name} healthy`, timeoutMs: 20_000, intervalMs: 200 });
    } catch (err) {
      return failWithLogs((err as Error).message);
    }
    if ('exited' in outcome) return failWithLogs(`fixture ${name} exited with code ${outcome.exited} before becoming healthy`);
  }
  return { id: container.id, name, token, port, url, container };
}

/** stdout+stderr of a container as text (demultiplexed). */
export async function containerLogs(container: Docker.Container): Promise<string> {
  try {
    const buf = await container.logs({ stdout: true, stderr: true, follow: false });
    // Non-TTY logs are framed: 8-byte header (stream, 0, 0, 0, size32) then payload.
    const out: string[] = [];
    let i = 0;
    while (i + 8 <= buf.length) {
      const size = buf.readUInt32BE(i + 4);
      out.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
      i += 8 + size;
    }
    return out.join('');
  } catch (err) {
    return `(logs unavailable: ${String(err)})`;
  }
}

/** A variant's Dockerfile body whose gateway refuses to start: its entry point exits 1. */
export const BROKEN_GATEWAY = 'USER 0\nRUN printf "console.error(\\"refusing to start\\"); process.exit(1);\\n" > /app/openclaw.mjs\nUSER 1000:1000';

/** Builds an image FROM the real gateway's with `body` added, labelled as this run's (remove it when done). */
export function buildGatewayVariant(tag: string, body: string): void {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/ocm-img-`);
  try {
    // Not the gateway build's own image: drop the labels it would inherit.
    fs.writeFileSync(`${dir}/Dockerfile`, `FROM ${GATEWAY_IMAGE}\n${body}\nLABEL ocm.gateway="" ocm.gateway.hash="" ocm.test=1 ocm.test.run=${RUN_ID}\n`);
    const r = spawnSync('docker', ['build', '-q', '-t', tag, dir], { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    if (r.status !== 0) throw new Error(`docker build ${tag}: ${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
