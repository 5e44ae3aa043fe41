// After a host reboot: N real gateways, their containers there but stopped,
// until every one answers healthy. `ocm up` against `docker-compose up -d` on
// the rendered file plus a /healthz poll. N is as many as the machine holds at
// the gateway's idle size, unless OCM_BENCH_REBOOT_USERS says otherwise. What
// bounds it is shown beside it: the CPU time the gateways themselves spent
// starting, spread over the machine's cores.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRoot, userPorts } from '../lib/bench-root.js';
import { countContainers } from '../lib/docker.js';
import { POLL_MS, waitAllHealthy } from '../lib/health.js';
import { run } from '../lib/proc.js';
import { absoluteRow, compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import { REAL_IMAGE, requireRealImage } from '../lib/real-image.js';
import type { Bench } from './types.js';

/** Upstream's per-tenant CPU and pids; memory at the gateway's measured idle (550-730 MB) plus its start-up peak. */
const LIMITS = { cpus: 2, memory: '1536m', pids: 512 };
/** What one idle real gateway holds, for sizing N: the top of the measured range plus its sandbox. */
const IDLE_BYTES = 800 * 1024 ** 2;
/** Left to dockerd, the bench and the kernel. */
const RESERVE_BYTES = 4 * 1024 ** 3;

function userCount(quick: boolean): number {
  const asked = Number(process.env.OCM_BENCH_REBOOT_USERS ?? '');
  if (Number.isInteger(asked) && asked > 0) return asked;
  if (quick) return 3;
  // As many as the machine holds. A real gateway spends about 16 s of CPU
  // starting, so on few cores this is the longest bench by far;
  // OCM_BENCH_REBOOT_USERS asks for fewer.
  return Math.max(2, Math.min(30, Math.floor((freemem() - RESERVE_BYTES) / IDLE_BYTES)));
}

/** CPU seconds a running container has used since it started (its cgroup is new at every start). */
function cpuSeconds(id: string): number | undefined {
  const candidates = [
    [`/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`, 1e9],
    [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 1e9],
    [`/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`, 1e9],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 1e6],
    [`/sys/fs/cgroup/docker/${id}/cpu.stat`, 1e6],
  ] as const;
  for (const [path, scale] of candidates) {
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const value = path.endsWith('cpu.stat') ? /usage_usec (\d+)/.exec(text)?.[1] : text.trim();
    if (value !== undefined) return Number(value) / scale;
  }
  return undefined;
}

export const rebootBench: Bench = {
  name: 'reboot',
  title: 'real gateways healthy after a host reboot',
  async run(ctx) {
    requireRealImage();
    const n = userCount(ctx.quick);
    const root = await createRoot(ctx.ocmBin, { project: 'benchrb', portBase: 14800, portCount: 40, pool: '10.247.0.0/16', limits: LIMITS, runId: ctx.runId, image: REAL_IMAGE, healthTimeoutSeconds: 900 });
    const label = `ocm.root=${root.root}`;
    const users = Array.from({ length: n }, (_, i) => `r${String(i + 1).padStart(2, '0')}`);
    ctx.log(`  reboot: ${n} real gateways (${LIMITS.cpus} CPU, ${LIMITS.memory}, ${LIMITS.pids} pids each)`);
    for (const user of users) await root.ocm(['add', user, '--no-start']);
    const ports = [...userPorts(root.root).values()];
    const ids = async () => (await run('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${label}`])).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    // A host that ran before: the gateways have written their state once.
    await root.ocm(['up'], { timeoutMs: 1_800_000 });
    await waitAllHealthy(ports, 60_000);
    // docker-compose adopts the containers once (it recreates those without its config-hash label).
    await root.compose(['up', '-d'], { timeoutMs: 1_800_000 });
    await waitAllHealthy(ports, 900_000);
    const reboot = async () => {
      // The gateways stop as they would at shutdown; the kernel settles before the next start.
      await run('docker', ['stop', '-t', '30', ...(await ids())], { timeoutMs: 600_000 });
      const running = await countContainers(label, true);
      if (running !== 0) throw new Error(`${running} gateways still running after docker stop`);
      await sleep(5000);
    };
    const cpu: number[] = [];
    const recordCpu = async () => {
      const each = (await ids()).map(cpuSeconds);
      if (each.every((s) => s !== undefined)) cpu.push(each.reduce((a, b) => a + b, 0));
    };
    const t = { ocm: [] as number[], compose: [] as number[], seen: [] as number[] };
    await reboot();
    await alternate(ctx.reps, [
      async () => {
        // The bench polls beside ocm: when the gateways answered, apart from when ocm said so.
        const started = process.hrtime.bigint();
        const seen = waitAllHealthy(ports, 1_800_000).then(() => Number(process.hrtime.bigint() - started) / 1e6);
        const r = await root.ocm(['up'], { timeoutMs: 1_800_000 });
        t.seen.push(await seen);
        t.ocm.push(r.ms);
        ctx.log(`  ocm up: ${(r.ms / 1000).toFixed(1)} s (all answered at ${((t.seen.at(-1) ?? 0) / 1000).toFixed(1)} s)`);
        await recordCpu();
        await reboot();
      },
      async () => {
        const started = process.hrtime.bigint();
        await root.compose(['up', '-d'], { timeoutMs: 1_800_000 });
        await waitAllHealthy(ports, 1_800_000);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        t.compose.push(ms);
        ctx.log(`  docker-compose up -d + health: ${(ms / 1000).toFixed(1)} s`);
        await recordCpu();
        await reboot();
      },
    ]);
    await root.reap();
    const cores = availableParallelism();
    const rows = [
      compareRow(`${n} real gateways, stopped as after a reboot, to all healthy`, 'ms', summarize(t.ocm), `docker-compose up -d + /healthz poll every ${POLL_MS} ms`, summarize(t.compose), 'info', undefined),
    ];
    if (cpu.length > 0) {
      const floor = summarize(cpu.map((s) => (s * 1000) / cores));
      rows.push(absoluteRow(`the bound: CPU the ${n} gateways spent starting, over ${cores} cores`, 'ms', floor, 'info', undefined));
    }
    return {
      rows,
      notes: [
        `${n} users of ${REAL_IMAGE} (${LIMITS.cpus} CPU, ${LIMITS.memory}, ${LIMITS.pids} pids each), started once before timing; between runs every container is stopped (docker stop -t 30) and the host gets 5 s to settle; ${ctx.reps} runs per side, alternating`,
        'after a real reboot the engine itself starts containers whose restart policy is unless-stopped; the figure is the same work, started by the command an admin runs',
        `during \`ocm up\`, the bench's own poll (every ${POLL_MS} ms, beside ocm's) saw every gateway answer at ${summarize(t.seen).median.toFixed(0)} ms (median): how much of the figure is the gateways' own start`,
        cpu.length > 0 ? `CPU per start, all gateways together: ${summarize(cpu).median.toFixed(1)} s (from each container's cgroup, read once all were healthy)` : 'the containers\' CPU time could not be read from the cgroup filesystem',
      ],
    };
  },
};
