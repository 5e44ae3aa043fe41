// `npm run bench [-- --quick] [-- names...]`: ocm against docker-compose,
// nginx, tar and node on this machine, median of repeated runs, PASS/MISS
// against the targets. Everything it creates is removed when it ends.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { addBench } from './benches/add.js';
import { backupBench } from './benches/backup.js';
import { cliBench } from './benches/cli.js';
import { daemonMemoryBench } from './benches/daemon-memory.js';
import { downloadBench } from './benches/download.js';
import { fleetColdBench, fleetNoopBench } from './benches/fleet.js';
import { gatewayBench } from './benches/gateway.js';
import { httpsBench } from './benches/https.js';
import { meterBench } from './benches/meter.js';
import { proxyBench } from './benches/proxy.js';
import { rebootBench } from './benches/reboot.js';
import { swarmBench } from './benches/swarm.js';
import type { Bench } from './benches/types.js';
import { wsBench } from './benches/ws.js';
import { onCleanup, runCleanup } from './lib/cleanup.js';
import { buildCli, hasDaemon, REPO } from './lib/cli-build.js';
import { createContext } from './lib/context.js';
import { BENCH_LABEL, dockerdIdentity, reapByLabel } from './lib/docker.js';
import { describeMachine, loadAverage, waitQuiet } from './lib/machine.js';
import { run } from './lib/proc.js';
import { markdownTable, type BenchResult } from './lib/report.js';

/**
 * In this order: the Docker-free ones first, then the fleet, which the proxy benches reuse running;
 * https after proxy (its own root and daemon in front of the same gateways); download after daemon-mem, so its 80 MB at a time do not weigh on daemon-mem's figures; swarm last: it may make this engine a swarm manager for itself.
 */
const BENCHES: Bench[] = [cliBench, meterBench, backupBench, addBench, gatewayBench, rebootBench, fleetColdBench, fleetNoopBench, proxyBench, httpsBench, wsBench, daemonMemoryBench, downloadBench, swarmBench];

const USAGE = `usage: npm run bench -- [--quick] [--reps N] [--max-load L] [--out FILE] [--cli BIN] [bench...]
benches: ${BENCHES.map((b) => b.name).join(', ')} (default: all)
  --quick       a fast smoke run: 6 users, 2 runs per side, short loads, a small state
  --reps N      runs per side (default 5, quick 2)
  --max-load L  before each bench wait (up to 3 min) for a 1-minute load average below L
  --cli BIN     measure this ocm launcher (e.g. one built by bench/tools/build-variant.ts) instead of bundling the sources`;

interface Args { quick: boolean; reps?: number; maxLoad?: number; out?: string; cli?: string; names: string[] }

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--reps') args.reps = Number(value());
    else if (a === '--max-load') args.maxLoad = Number(value());
    else if (a === '--out') args.out = value();
    else if (a === '--cli') args.cli = resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else args.names.push(a);
  }
  const unknown = args.names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}\n${USAGE}`);
  if (args.reps !== undefined && !(Number.isInteger(args.reps) && args.reps >= 1)) throw new Error('--reps must be a positive integer');
  return args;
}

async function preflight(log: (s: string) => void): Promise<void> {
  for (const tool of ['docker', 'docker-compose', 'nginx', 'wrk', 'hyperfine', 'curl', 'tar', 'gzip', '/usr/bin/time']) {
    const r = await run('sh', ['-c', `command -v ${tool}`], { check: false });
    if (r.code !== 0) throw new Error(`${tool} is not installed (see HOST.md)`);
  }
  await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  log('fixture image: scripts/build-fixture-image.sh');
  await run('bash', [join(REPO, 'scripts/build-fixture-image.sh')], { timeoutMs: 300_000 });
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const selected = BENCHES.filter((b) => args.names.length === 0 || args.names.includes(b.name));
  const runId = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const tmp = mkdtempSync(join(tmpdir(), 'ocm-bench-run-'));
  onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
  // Last resort: anything of this run that a bench's own cleanup missed.
  onCleanup('reap this run', async () => void (await reapByLabel(`${BENCH_LABEL}.run=${runId}`)));

  await preflight(log);
  if (args.cli === undefined) log('bundling the CLI from the current sources into bench/.cli');
  const ocmBin = args.cli ?? (await buildCli());
  const daemonAvailable = await hasDaemon(ocmBin);
  log(daemonAvailable ? 'ocm daemon: available, the proxy benches use it' : 'ocm daemon: not available yet, the proxy benches use createEmbeddedProxy in its own process');
  const machine = await describeMachine();
  const reps = args.reps ?? (args.quick ? 2 : 5);
  const ctx = createContext({ quick: args.quick, reps, runId, ocmBin, daemonAvailable, tmp, log });

  const results: BenchResult[] = [];
  for (const bench of selected) {
    let result: BenchResult | undefined;
    // A restart of dockerd by someone else (fault-injection tests share this engine) voids a run: once more.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const loadBefore = args.maxLoad === undefined ? loadAverage() : await waitQuiet(args.maxLoad, 180_000, log);
      log(`\n== ${bench.name}: ${bench.title} (load ${loadBefore.join(' ')})`);
      const started = Date.now();
      const engine = dockerdIdentity();
      result = { name: bench.name, title: bench.title, rows: [], notes: [], loadBefore, loadAfter: [], seconds: 0 };
      try {
        const out = await bench.run(ctx);
        result.rows = out.rows;
        result.notes = out.notes;
      } catch (err) {
        result.error = (err as Error).stack ?? String(err);
        log(`   FAILED: ${result.error}`);
      }
      result.seconds = Math.round((Date.now() - started) / 1000);
      result.loadAfter = loadAverage();
      if (dockerdIdentity() === engine) break;
      result.error = `dockerd was restarted during this bench (by something else on the machine); its numbers are void${result.error ? `; ${result.error}` : ''}`;
      log(`   ${result.error.split('\n')[0]}`);
      await ctx.reset();
    }
    if (result === undefined) continue;
    results.push(result);
    if (result.rows.length > 0) log(markdownTable([result]).split('\n').slice(2).join('\n'));
    log(`   ${result.seconds} s, load after ${result.loadAfter.join(' ')}`);
  }

  const report = { date: new Date().toISOString(), quick: args.quick, reps, cli: ocmBin, machine, daemon: daemonAvailable, results };
  const variant = args.cli === undefined ? '' : `-${args.cli.split('/').slice(-3, -2)[0] ?? 'cli'}`;
  const out = args.out ?? join(REPO, 'bench/results', `${report.date.replace(/[:.]/g, '-')}${args.quick ? '-quick' : ''}${variant}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (args.cli !== undefined) console.log(`\nCLI: ${args.cli}`);
  console.log(`\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Docker ${machine.docker}, docker-compose ${machine.compose}, ${machine.nginx}, node ${machine.node}, ${machine.wrk}\n`);
  console.log(markdownTable(results));
  for (const r of results) for (const note of r.notes) console.log(`- ${r.name}: ${note}`);
  for (const r of results) console.log(`- ${r.name}: load average before ${r.loadBefore.join(' ')}, after ${r.loadAfter.join(' ')}, ${r.seconds} s`);
  console.log(`\nraw results: ${out}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

let cleaning = false;
async function finish(code: number): Promise<never> {
  if (!cleaning) {
    cleaning = true;
    await runCleanup();
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void finish(130));
main().then(finish, (err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  void finish(1);
});
