#!/usr/bin/env node
// Removes what an interrupted test run left on this machine, so the next run
// does not trip over it: Docker objects labelled ocm.test=1 whose test
// process is gone (swarm services first), swarm workers of dead tests, the
// test hosts' network namespaces and veth pairs
// (ocmt-*, np*h) and the tenant network policy chains (OCM-<project>-FWD/IN)
// of test deployments (the project names test roots and benchmarks use)
// that have no ocm network left in their pool.
//
// A stale test host still routes its /24, so a new one on the same range
// answers nothing; a chain left mid-rebuild refuses everything from its pool,
// and test roots reuse pools. Runs from .ci/run and before `npm test`; does
// nothing while another test run is alive (its objects are in use).
// Usage: node scripts/test-leftovers.mjs [--quiet]
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const quiet = process.argv.includes('--quiet');
const say = (line) => { if (!quiet) console.log(line); };
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });
const ok = (cmd, args) => sh(cmd, args).status === 0;

/** Other processes running the test runner (`node --test`, scripts/run-tests.mjs). */
function otherTestRuns() {
  const mine = new Set([process.pid, process.ppid]);
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || mine.has(Number(entry))) continue;
    let argv;
    try { argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!/(^|\/)node$/.test(argv[0] ?? '')) continue;
    if (argv.includes('--test') || argv.some((a) => a.endsWith('scripts/run-tests.mjs'))) found.push(Number(entry));
  }
  return found;
}

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
};

function dockerLeftovers() {
  if (!ok('docker', ['info', '--format', '{{.ID}}'])) return 0;
  let removed = 0;
  // RUN_ID (test/support/docker.ts) is the pid in base 36, then 6 hex digits.
  const ownerGone = (run) => {
    const pid = Number.parseInt((run ?? '').slice(0, -6), 36);
    return !Number.isInteger(pid) || pid <= 0 || !alive(pid);
  };
  // Services first: swarm would start a removed task container again. No swarm: nothing listed.
  const services = sh('docker', ['service', 'ls', '-q', '--filter', 'label=ocm.test=1']).stdout.split('\n').filter(Boolean);
  if (services.length > 0) {
    for (const line of sh('docker', ['service', 'inspect', '--format', '{{.ID}} {{index .Spec.Labels "ocm.test.run"}}', ...services]).stdout.split('\n').filter(Boolean)) {
      const [id, run] = line.split(' ');
      if (!ownerGone(run)) continue;
      if (ok('docker', ['service', 'rm', id])) removed += 1;
    }
  }
  const list = (kind, format) => sh('docker', [kind, 'ls', ...(kind === 'container' ? ['-a'] : []), '-q', '--filter', 'label=ocm.test=1', '--format', format]).stdout.split('\n').filter(Boolean);
  for (const [kind, rm] of [['container', ['rm', '-f', '-v']], ['network', ['network', 'rm']], ['volume', ['volume', 'rm', '-f']]]) {
    const idField = kind === 'volume' ? '{{.Name}}' : '{{.ID}}';
    for (const line of list(kind, `${idField} {{.Label "ocm.test.run"}}`)) {
      const [id, run] = line.split(' ');
      if (!ownerGone(run)) continue;
      if (ok('docker', [...rm, id])) removed += 1;
    }
  }
  if (removed > 0) say(`removed ${removed} Docker objects of finished test runs`);
  return removed;
}

function testHostLeftovers() {
  let removed = 0;
  for (const ns of sh('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n?.startsWith('ocmt-'))) {
    if (ok('ip', ['netns', 'del', ns])) removed += 1;
  }
  const links = JSON.parse(sh('ip', ['-j', 'link', 'show']).stdout || '[]');
  for (const link of links) {
    if (!/^(ocmt[0-9a-f]+h|np\d+[a-z]h)$/.test(link.ifname)) continue;
    if (ok('ip', ['link', 'del', link.ifname])) removed += 1;
  }
  if (removed > 0) say(`removed ${removed} test hosts' namespaces and links`);
}

// --- firewall ------------------------------------------------------------------
const toInt = (ip) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
function range(cidr) {
  const [ip, bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(toInt(ip) / size) * size;
  return [start, start + size - 1];
}
const overlap = (a, b) => { const [x, y] = range(a); const [p, q] = range(b); return x <= q && p <= y; };

function ocmSubnets() {
  const ids = sh('docker', ['network', 'ls', '-q', '--filter', 'label=ocm.managed=1']).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  return sh('docker', ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids]).stdout.split(/\s+/).filter((s) => s.includes('/'));
}

// test/helpers/ocm-root.ts, packages/daemon/test/support/root.ts, bench/lib.
const TEST_PROJECT = /^(t\d{1,3}[0-9a-z]{4}|d[0-9a-z]{4,}|bench)$/;

function firewallLeftovers(binary) {
  const text = sh(binary, ['-w', '-S']);
  if (text.status !== 0) return;
  const subnets = binary === 'iptables' ? ocmSubnets() : [];
  const chains = new Map();
  for (const line of text.stdout.split('\n')) {
    const n = /^-N (OCM-\S+-(FWD|IN))$/.exec(line);
    if (n) chains.set(n[1], chains.get(n[1]) ?? []);
    const j = /^-A (DOCKER-USER|INPUT) (.*-j (OCM-\S+-(FWD|IN)))$/.exec(line);
    if (j) chains.set(j[3], [...(chains.get(j[3]) ?? []), { hook: j[1], spec: j[2], source: /-s (\S+)/.exec(j[2])?.[1] ?? '0.0.0.0/0' }]);
  }
  let removed = 0;
  for (const [chain, jumps] of chains) {
    if (!TEST_PROJECT.test(chain.replace(/^OCM-|-(FWD|IN)$/g, ''))) continue;
    // In use: a jump whose pool holds a network of an ocm deployment.
    if (jumps.some((j) => subnets.some((s) => overlap(s, j.source)))) continue;
    for (const j of jumps) sh(binary, ['-w', '-D', j.hook, ...j.spec.split(' ')]);
    sh(binary, ['-w', '-F', chain]);
    if (ok(binary, ['-w', '-X', chain])) removed += 1;
  }
  if (removed > 0) say(`removed ${removed} ${binary} chains of deployments without networks`);
}

/**
 * A swarm worker of a dead test (test/support/swarm-worker.ts: a second
 * dockerd in netns ocmt-wN, its veth, chain, node and directories) is
 * taken down by that module's own cleanup, when any trace of one is here.
 */
function swarmWorkerLeftovers() {
  const traces = [
    ...readdirSync('/run').filter((e) => /^ocm-test-docker-w\d+/.test(e)),
    ...sh('ip', ['netns', 'list']).stdout.split('\n').filter((l) => /^ocmt-w\d+/.test(l)),
    ...sh('ip', ['-o', 'link', 'show']).stdout.split('\n').filter((l) => /: ocmtw\d+h[@:]/.test(l)),
  ];
  if (traces.length === 0) return;
  const repo = new URL('..', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "await (await import('./test/support/swarm-worker.ts')).cleanupSwarmWorkers()"], { cwd: repo, encoding: 'utf8' });
  say(r.status === 0 ? 'removed the swarm workers of finished test runs' : `could not remove a swarm worker of a finished test run: ${r.stderr.trim().split('\n').pop()}`);
}

const others = otherTestRuns();
if (others.length > 0) {
  say(`test leftovers: another test run is alive (pid ${others.join(', ')}), nothing removed`);
} else {
  swarmWorkerLeftovers();
  dockerLeftovers();
  testHostLeftovers();
  for (const binary of ['iptables', 'ip6tables']) {
    try { execFileSync('which', [binary], { stdio: 'ignore' }); } catch { continue; }
    firewallLeftovers(binary);
  }
}
