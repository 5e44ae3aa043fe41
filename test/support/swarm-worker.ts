// A second Docker Swarm node on this machine, for tests: a dockerd of its own
// inside a network namespace (ocmt-wN), joined to the main engine's swarm as a
// worker over a veth pair. The main engine must already be a swarm manager;
// nothing here inits or leaves the main engine's swarm, and nothing touches
// objects it did not create.
//
//   host (manager, advertise address A)          netns ocmt-wN (worker)
//   ocmtwNh 10.199.77.(4N-3)/30  <-- veth -->  ocmtwNn 10.199.77.(4N-2)/30
//   route 10.199.77.(4N-2)/32 src A            default via 10.199.77.(4N-3)
//
// What it takes (measured on Engine 20.10, kernel 6.18):
// - Nothing is forwarded: the worker talks to A, a local address of this host
//   (INPUT/OUTPUT, not FORWARD), so Docker's FORWARD DROP does not matter. An
//   ACCEPT chain OCM-TEST-WN hooked from INPUT (comment ocm-test) keeps the
//   swarm ports open should INPUT ever drop.
// - The manager must send to the worker from A, not from the veth address:
//   Linux VXLAN drops a frame whose outer source differs from the permanent
//   fdb entry Docker programmed for the sender (vxlan_snoop: "don't migrate
//   static entries"), so the overlay would carry nothing from the manager to
//   the worker. Hence the /32 route with `src A`.
// - `ip netns exec` remounts /sys and so hides /sys/fs/cgroup (dockerd: "Devices
//   cgroup isn't mounted"). The daemon is started with nsenter --net + unshare
//   --mount --uts, a sysfs of the namespace, and the host's cgroup mounts moved
//   back under it; its own hostname (the swarm node hostname) is the name.
// - No registry: a swarm task tries to pull its image first and waits for the
//   DNS timeout (about 20 s) unless DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 is in
//   the worker daemon's environment; images come by `docker save | load`.
// - Everything the daemon mounts lives in its private mount namespace, and its
//   containers in the cgroup parent /ocm-test-docker-wN, so leftovers of a
//   killed run are found by pidfile, command line and cgroup.
// - scripts/test-leftovers.mjs deletes ocmt-* namespace names whenever no
//   `node --test` runs: a worker used from a plain script may lose its name
//   (it keeps running in the unnamed netns); teardown does not need the name.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SwarmWorkerOptions {
  /** ocmt-w1 .. ocmt-w64 (default ocmt-w1): netns name and node hostname. */
  name?: string;
  /** Images of the main engine to copy into the worker (docker save | load). */
  images?: string[];
}

export interface SwarmWorkerTimings {
  /** Checks, removing a dead run's leftovers, then netns, veth, route and firewall. */
  networkMs: number;
  /** From spawning dockerd until it answers. */
  dockerdMs: number;
  /** docker save | docker load, per image. */
  imagesMs: Record<string, number>;
  /** swarm join until the manager lists the node Ready. */
  joinMs: number;
  totalMs: number;
}

export interface SwarmWorker {
  /** The name given (ocmt-wN): netns name. */
  name: string;
  /** The node's hostname as the manager sees it (for node.hostname== constraints). */
  hostname: string;
  nodeId: string;
  /** The worker engine's socket path. */
  socket: string;
  /** unix://<socket>, for docker -H or DOCKER_HOST. */
  dockerHost: string;
  /** The worker's address (its swarm advertise address). */
  address: string;
  /** The worker dockerd's log file (kept after stop). */
  logFile: string;
  /** dockerd's pid. */
  pid: number;
  timings: SwarmWorkerTimings;
  /** Removes everything; idempotent. */
  stop(): Promise<void>;
}

const NAME = /^ocmt-w([1-9]\d?)$/;
const COMMENT = 'ocm-test';
const SWARM_PORTS: Array<[proto: 'tcp' | 'udp', port: number]> = [['tcp', 2377], ['tcp', 7946], ['udp', 7946], ['udp', 4789]];

interface Layout {
  name: string;
  netns: string;
  hostVeth: string;
  nsVeth: string;
  hostAddress: string;
  address: string;
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  socket: string;
  dockerHost: string;
  cgroupParent: string;
  chain: string;
  ownerFile: string;
  configFile: string;
  stash: string;
  logFile: string;
}

function layout(name: string): Layout {
  const m = NAME.exec(name);
  const n = m ? Number(m[1]) : 0;
  if (n < 1 || n > 64) throw new Error(`swarm worker name must be ocmt-w1 .. ocmt-w64, not ${JSON.stringify(name)}`);
  const slug = `w${n}`;
  const base = 4 * (n - 1);
  const execRoot = `/run/ocm-test-docker-${slug}`;
  const socket = `/run/ocm-test-docker-${slug}.sock`;
  return {
    name,
    netns: name,
    hostVeth: `ocmt${slug}h`,
    nsVeth: `ocmt${slug}n`,
    hostAddress: `10.199.77.${base + 1}`,
    address: `10.199.77.${base + 2}`,
    dataRoot: `/var/lib/ocm-test-docker-${slug}`,
    execRoot,
    pidfile: `/run/ocm-test-docker-${slug}.pid`,
    socket,
    dockerHost: `unix://${socket}`,
    cgroupParent: `/ocm-test-docker-${slug}`,
    chain: `OCM-TEST-${slug.toUpperCase()}`,
    ownerFile: join(execRoot, 'ocm-test-owner.json'),
    configFile: join(execRoot, 'ocm-test-daemon.json'),
    stash: join(execRoot, 'cgroup-stash'),
    logFile: join(tmpdir(), `ocm-test-docker-${slug}.log`),
  };
}

// --- small process helpers ----------------------------------------------------

interface RunResult { stdout: string; stderr: string }

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[cmd, ...args].join(' ')}: ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

const succeeds = (cmd: string, args: string[], timeoutMs?: number) => run(cmd, args, timeoutMs).then(() => true, () => false);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const errno = (err: unknown) => (typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '');

/** Field 22 of /proc/PID/stat (start time), undefined when there is no such process or it is a zombie. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[0] === 'Z' || rest[0] === 'X' ? undefined : rest[19];
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => procStart(pid) !== undefined;

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

const ENGINE_BINARIES = new Set(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2', 'docker', 'docker-proxy', 'runc', 'nsenter', 'unshare', 'sh']);

function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Processes of this worker's engine: everything in its network namespace
 * (dockerd, containerd, shims, docker-proxy), and engine binaries whose
 * command line names its exec root or socket (also once the netns is gone).
 */
function enginePids(l: Layout): number[] {
  const ns = netnsInode(`/run/netns/${l.netns}`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid) continue;
    if (ns !== undefined && netnsInode(`/proc/${pid}/ns/net`) === ns) {
      pids.push(pid);
      continue;
    }
    const args = cmdline(pid);
    const binary = (args[0] ?? '').split('/').pop() ?? '';
    if (ENGINE_BINARIES.has(binary) && args.some((a) => a === l.execRoot || a.startsWith(`${l.execRoot}/`) || a === l.dockerHost || a === l.socket)) pids.push(pid);
  }
  return pids;
}

/** The pidfile's dockerd, when it is alive and really this worker's. */
function daemonPid(l: Layout): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(l.pidfile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && alive(pid) && cmdline(pid).includes(l.execRoot) ? pid : undefined;
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(alive);
  }
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

// --- ownership ----------------------------------------------------------------

interface Owner { pid: number; start: string; nodeId?: string; daemonPid?: number }

function readOwner(l: Layout): Owner | undefined {
  try {
    return JSON.parse(readFileSync(l.ownerFile, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function writeOwner(l: Layout, owner: Owner): void {
  writeFileSync(l.ownerFile, `${JSON.stringify(owner)}\n`);
}

/** In use: its owner process lives, or its exec root was made a moment ago and has no owner file yet. */
function inUse(l: Layout): Owner | 'starting' | undefined {
  const owner = readOwner(l);
  if (owner) return procStart(owner.pid) === owner.start ? owner : undefined;
  try {
    return Date.now() - statSync(l.execRoot).mtimeMs < 30_000 ? 'starting' : undefined;
  } catch {
    return undefined;
  }
}

// --- the manager --------------------------------------------------------------

interface Manager { addr: string; remote: string }

async function managerInfo(): Promise<Manager> {
  const { stdout } = await run('docker', ['info', '--format', '{{json .Swarm}}']);
  const swarm = JSON.parse(stdout) as { LocalNodeState?: string; ControlAvailable?: boolean; NodeAddr?: string; RemoteManagers?: Array<{ Addr: string }> | null };
  if (swarm.LocalNodeState !== 'active' || swarm.ControlAvailable !== true || !swarm.NodeAddr) {
    throw new Error(`the main Docker engine is not a swarm manager (state ${swarm.LocalNodeState ?? '?'}); this helper never inits one`);
  }
  const remote = swarm.RemoteManagers?.find((m) => m.Addr.startsWith(`${swarm.NodeAddr}:`))?.Addr ?? `${swarm.NodeAddr}:2377`;
  return { addr: swarm.NodeAddr, remote };
}

/** Node ids on the manager whose hostname is this worker's name (plus a known id). */
async function nodesOf(l: Layout, known?: string): Promise<string[]> {
  const ids = new Set<string>(known ? [known] : []);
  try {
    const { stdout } = await run('docker', ['node', 'ls', '--format', '{{.ID}} {{.Hostname}}']);
    const listed = new Set<string>();
    for (const line of stdout.split('\n')) {
      const [id, host] = line.trim().split(' ');
      if (!id) continue;
      listed.add(id);
      if (host === l.name) ids.add(id);
    }
    return [...ids].filter((id) => listed.has(id));
  } catch {
    return [];
  }
}

// --- network ------------------------------------------------------------------

async function setupNetwork(l: Layout, manager: Manager): Promise<void> {
  const ip = (...args: string[]) => run('ip', args);
  const inNs = (...args: string[]) => run('ip', ['-n', l.netns, ...args]);
  await ip('netns', 'add', l.netns);
  await ip('link', 'add', l.hostVeth, 'type', 'veth', 'peer', 'name', l.nsVeth);
  await ip('link', 'set', l.nsVeth, 'netns', l.netns);
  await ip('addr', 'add', `${l.hostAddress}/30`, 'dev', l.hostVeth);
  await ip('link', 'set', l.hostVeth, 'up');
  // From the advertise address, or the worker's VXLAN drops what the manager sends (see the top).
  await ip('route', 'add', `${l.address}/32`, 'dev', l.hostVeth, 'src', manager.addr);
  await inNs('link', 'set', 'lo', 'up');
  await inNs('addr', 'add', `${l.address}/30`, 'dev', l.nsVeth);
  await inNs('link', 'set', l.nsVeth, 'up');
  await inNs('route', 'add', 'default', 'via', l.hostAddress);

  const ipt = (...args: string[]) => run('iptables', ['-w', ...args]);
  await ipt('-N', l.chain);
  await ipt('-A', l.chain, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-m', 'comment', '--comment', COMMENT, '-j', 'ACCEPT');
  for (const [proto, port] of SWARM_PORTS) {
    await ipt('-A', l.chain, '-p', proto, '--dport', String(port), '-m', 'comment', '--comment', COMMENT, '-j', 'ACCEPT');
  }
  await ipt('-I', 'INPUT', '1', '-i', l.hostVeth, '-s', `${l.address}/32`, '-d', `${manager.addr}/32`, '-m', 'comment', '--comment', COMMENT, '-j', l.chain);
}

async function removeFirewall(l: Layout): Promise<void> {
  let rules: string;
  try {
    rules = (await run('iptables', ['-w', '-S'])).stdout;
  } catch {
    return;
  }
  for (const line of rules.split('\n')) {
    const m = /^-A (\S+) (.*-j (\S+))$/.exec(line.trim());
    if (m?.[3] === l.chain) await run('iptables', ['-w', '-D', m[1]!, ...m[2]!.split(' ')]).catch(() => undefined);
  }
  if (rules.split('\n').includes(`-N ${l.chain}`)) {
    await run('iptables', ['-w', '-F', l.chain]).catch(() => undefined);
    await run('iptables', ['-w', '-X', l.chain]).catch(() => undefined);
  }
}

// --- the daemon ---------------------------------------------------------------

// Runs as root in the worker's netns, with its own mount and UTS namespaces:
// its hostname, a sysfs of the netns (as `ip netns exec` makes) and the host's
// cgroup mounts, which that remount would hide, moved back under it.
const LAUNCH = [
  'set -e',
  'hostname "$1"',
  'stash="$2"',
  'shift 2',
  'mkdir -p "$stash"',
  'mount --rbind /sys/fs/cgroup "$stash"',
  'umount -l /sys',
  'mount -t sysfs sysfs /sys',
  'mount --move "$stash" /sys/fs/cgroup',
  'exec "$@"',
].join('\n');

function spawnDaemon(l: Layout): ChildProcess {
  writeFileSync(l.configFile, '{}\n'); // not /etc/docker/daemon.json
  const dockerd = [
    'dockerd',
    '--config-file', l.configFile,
    '--data-root', l.dataRoot,
    '--exec-root', l.execRoot,
    '--pidfile', l.pidfile,
    '-H', l.dockerHost,
    '--bip', '10.199.78.1/24',
    '--default-address-pool', 'base=10.199.80.0/20,size=24',
    '--cgroup-parent', l.cgroupParent,
  ];
  const log = openSync(l.logFile, 'w');
  try {
    const child = spawn('nsenter', [
      `--net=/run/netns/${l.netns}`, '--',
      'unshare', '--uts', '--mount', '--propagation', 'slave', '--',
      'sh', '-c', LAUNCH, 'ocm-test-launch', l.name, l.stash, ...dockerd,
    ], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

function logTail(l: Layout): string {
  try {
    return readFileSync(l.logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForDaemon(l: Layout, child: ChildProcess, timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, sig) => { exited = `exited (${code ?? sig ?? '?'})`; });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await succeeds('docker', ['-H', l.dockerHost, 'info', '--format', '{{.ID}}'], 5_000)) return;
    if (exited !== undefined || Date.now() > deadline) {
      throw new Error(`the worker dockerd ${exited ?? `did not answer within ${timeoutMs} ms`}; ${l.logFile}:\n${logTail(l)}`);
    }
    await sleep(100);
  }
}

async function loadImage(l: Layout, image: string): Promise<void> {
  const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn('docker', ['-H', l.dockerHost, 'load', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let saveErr = '';
  let loadErr = '';
  save.stderr.on('data', (d: Buffer) => { saveErr += d.toString(); });
  load.stderr.on('data', (d: Buffer) => { loadErr += d.toString(); });
  load.stdout.resume();
  load.stdin.on('error', () => undefined); // load died: its exit code says so
  save.stdout.pipe(load.stdin);
  const exit = (p: ChildProcess) => new Promise<number>((resolve) => {
    p.once('error', () => resolve(-1));
    p.once('close', (code) => resolve(code ?? -1));
  });
  const [s, d] = await Promise.all([exit(save), exit(load)]);
  if (s !== 0 || d !== 0) throw new Error(`docker save ${image} | docker -H ${l.dockerHost} load failed (${s}/${d}): ${saveErr.trim()} ${loadErr.trim()}`);
}

// --- teardown -----------------------------------------------------------------

function cgroupDirs(l: Layout): string[] {
  const dirs: string[] = [];
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync('/sys/fs/cgroup');
  } catch {
    return dirs;
  }
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name));
    dirs.push(dir); // children first
  };
  for (const h of [...hierarchies, '']) {
    const dir = join('/sys/fs/cgroup', h, l.cgroupParent);
    if (existsSync(join(dir, 'cgroup.procs'))) walk(dir);
  }
  return dirs;
}

function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

/** Mount points under the data and exec roots, as this process' mount namespace sees them, deepest first. */
function mountsUnder(l: Layout): string[] {
  const roots = [l.dataRoot, l.execRoot];
  const points: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (roots.some((r) => point === r || point.startsWith(`${r}/`))) points.push(point);
  }
  return points.sort((a, b) => b.length - a.length);
}

async function netnsExists(name: string): Promise<boolean> {
  const { stdout } = await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').some((line) => line.split(' ')[0] === name);
}

/** Removes every trace of worker `l`; tolerates any of them being absent. Throws when something stays. */
async function teardown(l: Layout, knownNodeId?: string, child?: ChildProcess): Promise<void> {
  const problems: string[] = [];
  const daemon = daemonPid(l) ?? (child?.pid !== undefined && alive(child.pid) ? child.pid : undefined);

  // Leave the swarm (the manager then sees the node down at once) and remove the node.
  if (daemon !== undefined) {
    await run('docker', ['-H', l.dockerHost, 'swarm', 'leave', '--force'], 30_000).catch(() => undefined);
  }
  for (const id of await nodesOf(l, knownNodeId)) {
    await run('docker', ['node', 'rm', '--force', id]).catch((err) => problems.push(message(err)));
  }

  // The daemon: TERM stops its containers and containerd; KILL when it hangs.
  if (daemon !== undefined) {
    signal(daemon, 'SIGTERM');
    if ((await waitGone([daemon], 30_000)).length > 0) {
      signal(daemon, 'SIGKILL');
      await waitGone([daemon], 5_000);
    }
  }
  // What outlived it: containerd, shims, clients of its socket, and container processes (by cgroup).
  let stray = [...enginePids(l), ...cgroupPids(cgroupDirs(l))];
  for (const pid of stray) signal(pid, 'SIGKILL');
  stray = await waitGone(stray, 5_000);
  if (stray.length > 0) problems.push(`processes of ${l.name} survived SIGKILL: ${stray.join(', ')}`);
  for (const dir of cgroupDirs(l)) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if (errno(err) !== 'ENOENT') problems.push(`rmdir ${dir}: ${message(err)}`);
    }
  }

  // Mounts (normally none here: the daemon mounted in its own namespace).
  for (const point of mountsUnder(l)) {
    if (!(await succeeds('umount', [point]))) await run('umount', ['-l', point]).catch((err) => problems.push(message(err)));
  }

  await removeFirewall(l);
  // The veth first: deleting one end removes the pair at once, whereas a deleted
  // netns takes its end (and so the pair) away later, in the kernel's own time.
  await run('ip', ['link', 'delete', l.hostVeth]).catch((err) => {
    if (!/Cannot find device/.test(message(err))) problems.push(message(err));
  });
  if (await netnsExists(l.netns)) await run('ip', ['netns', 'delete', l.netns]).catch((err) => problems.push(message(err)));

  const mounted = mountsUnder(l);
  if (mounted.length > 0) {
    problems.push(`still mounted, so not deleted: ${mounted.join(', ')}`);
  } else {
    for (const path of [l.dataRoot, l.pidfile, l.socket, l.execRoot]) rmSync(path, { recursive: true, force: true });
  }

  // Check.
  if (daemon !== undefined && alive(daemon)) problems.push(`dockerd ${daemon} still runs`);
  if (await netnsExists(l.netns)) problems.push(`netns ${l.netns} remains`);
  if (await succeeds('ip', ['link', 'show', l.hostVeth])) problems.push(`link ${l.hostVeth} remains`);
  const rules = (await run('iptables', ['-w', '-S']).catch(() => ({ stdout: '' }))).stdout.split('\n');
  if (rules.some((r) => r === `-N ${l.chain}` || r.endsWith(`-j ${l.chain}`))) problems.push(`iptables chain ${l.chain} remains`);
  const nodes = await nodesOf(l, knownNodeId);
  if (nodes.length > 0) problems.push(`swarm nodes remain: ${nodes.join(', ')}`);
  if (problems.length > 0) throw new Error(`removing swarm worker ${l.name}: ${problems.join('; ')}`);
}

// --- public -------------------------------------------------------------------

/**
 * Starts a swarm worker (see the top of this file) and joins it to the main
 * engine's swarm. Leftovers of a dead run under the same name are removed
 * first; a worker of that name owned by a live process is an error.
 */
export async function startSwarmWorker(options: SwarmWorkerOptions = {}): Promise<SwarmWorker> {
  const l = layout(options.name ?? 'ocmt-w1');
  const t0 = Date.now();
  const manager = await managerInfo();

  const user = inUse(l);
  if (user !== undefined) throw new Error(`swarm worker ${l.name} is in use (${user === 'starting' ? 'being started' : `by process ${user.pid}`})`);
  await teardown(l, readOwner(l)?.nodeId);
  try {
    mkdirSync(l.execRoot, { mode: 0o700 });
  } catch (err) {
    throw new Error(`swarm worker ${l.name}: ${l.execRoot} appeared meanwhile (${message(err)}): another process starts it`);
  }
  const owner: Owner = { pid: process.pid, start: procStart(process.pid) ?? '' };
  writeOwner(l, owner);

  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  // Should this process exit without stop(), the daemon goes with it; cleanupSwarmWorkers() removes the rest.
  const onExit = () => {
    const pid = daemonPid(l) ?? child?.pid;
    if (pid !== undefined) signal(pid, 'SIGTERM');
  };
  process.on('exit', onExit);
  const stop = () => {
    stopping ??= teardown(l, owner.nodeId, child).finally(() => process.off('exit', onExit));
    return stopping;
  };

  try {
    await setupNetwork(l, manager);
    const t1 = Date.now();

    mkdirSync(l.dataRoot, { recursive: true, mode: 0o710 });
    child = spawnDaemon(l);
    await waitForDaemon(l, child, 60_000);
    const pid = daemonPid(l) ?? child.pid!;
    owner.daemonPid = pid;
    writeOwner(l, owner);
    const t2 = Date.now();

    const imagesMs: Record<string, number> = {};
    for (const image of options.images ?? []) {
      const s = Date.now();
      await loadImage(l, image);
      imagesMs[image] = Date.now() - s;
    }
    const t3 = Date.now();

    const token = (await run('docker', ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
    await run('docker', ['-H', l.dockerHost, 'swarm', 'join', '--token', token, '--advertise-addr', l.address, '--listen-addr', `${l.address}:2377`, manager.remote], 60_000);
    const nodeId = (await run('docker', ['-H', l.dockerHost, 'info', '--format', '{{.Swarm.NodeID}}'])).stdout.trim();
    if (!nodeId) throw new Error(`the worker ${l.name} joined but reports no node id`);
    owner.nodeId = nodeId;
    writeOwner(l, owner);
    let hostname = '';
    const deadline = Date.now() + 60_000;
    for (;;) {
      const seen = await run('docker', ['node', 'inspect', nodeId, '--format', '{{.Status.State}} {{.Description.Hostname}}']).then((r) => r.stdout.trim(), (err) => message(err));
      const [state, host] = seen.split(' ');
      if (state === 'ready' && host) {
        hostname = host;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the manager does not list ${l.name} (${nodeId}) as ready: ${seen}`);
      await sleep(200);
    }
    const t4 = Date.now();

    return {
      name: l.name,
      hostname,
      nodeId,
      socket: l.socket,
      dockerHost: l.dockerHost,
      address: l.address,
      logFile: l.logFile,
      pid,
      timings: { networkMs: t1 - t0, dockerdMs: t2 - t1, imagesMs, joinMs: t4 - t3, totalMs: t4 - t0 },
      stop,
    };
  } catch (err) {
    try {
      await stop();
    } catch (cleanupErr) {
      throw new Error(`${message(err)}\n(and cleaning up failed: ${message(cleanupErr)})`, { cause: err });
    }
    throw err;
  }
}

/**
 * Removes what earlier, interrupted runs left: workers (ocmt-wN) whose owner
 * process is gone, with their daemon, node, netns, veth, firewall chain,
 * cgroups and directories. Workers of live processes are left alone.
 */
export async function cleanupSwarmWorkers(): Promise<void> {
  const names = new Set<string>();
  const add = (n: string | undefined) => {
    if (n !== undefined && Number(n) >= 1 && Number(n) <= 64) names.add(`ocmt-w${Number(n)}`);
  };
  for (const line of (await run('ip', ['netns', 'list'])).stdout.split('\n')) add(/^ocmt-w(\d+)(\s|$)/.exec(line)?.[1]);
  for (const dir of ['/run', '/var/lib']) {
    for (const entry of readdirSync(dir)) add(/^ocm-test-docker-w(\d+)(\.pid|\.sock)?$/.exec(entry)?.[1]);
  }
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string }>;
  for (const link of links) add(/^ocmtw(\d+)h$/.exec(link.ifname)?.[1]);
  for (const line of (await run('iptables', ['-w', '-S']).catch(() => ({ stdout: '' }))).stdout.split('\n')) add(/^-N OCM-TEST-W(\d+)$/.exec(line)?.[1]);
  const nodes = await run('docker', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']).catch(() => ({ stdout: '' }));
  for (const line of nodes.stdout.split('\n')) add(/^ocmt-w(\d+) (Down|Unknown|Disconnected)$/.exec(line.trim())?.[1]);
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry)) for (const a of cmdline(Number(entry))) add(/^(?:unix:\/\/)?\/run\/ocm-test-docker-w(\d+)(?:[/.]|$)/.exec(a)?.[1]);
  }

  const problems: string[] = [];
  for (const name of [...names].sort()) {
    const l = layout(name);
    if (inUse(l) !== undefined) continue;
    await teardown(l, readOwner(l)?.nodeId).catch((err) => problems.push(message(err)));
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
