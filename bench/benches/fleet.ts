// 50 users: from nothing (`ocm up` after `ocm add --no-start` x50, against
// `docker-compose up -d` on the rendered file) and with nothing to change.
import { setTimeout as sleep } from 'node:timers/promises';
import { FLEET_LIMITS, type Ctx, type Fleet } from '../lib/context.js';
import { countContainers } from '../lib/docker.js';
import { POLL_MS, waitAllHealthy } from '../lib/health.js';
import { compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

async function teardown(f: Fleet): Promise<void> {
  await f.root.reap();
  // Let dockerd, containerd and the kernel finish tearing 50 sandboxes down before the next timed run.
  await sleep(3000);
}

function since(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function expectRunning(f: Fleet, what: string): Promise<void> {
  const n = await countContainers(f.label, true);
  if (n !== f.users.length) throw new Error(`${what}: ${n} of ${f.users.length} containers are running`);
}

export const fleetColdBench: Bench = {
  name: 'fleet-cold',
  title: '50 users from nothing',
  async run(ctx: Ctx) {
    const f = await ctx.fleet();
    const ports = [...f.ports.values()];
    await teardown(f);
    const t = { ocmWait: [] as number[], composeWait: [] as number[], ocmNoWait: [] as number[], composeNoWait: [] as number[] };
    await alternate(ctx.reps, [
      async () => {
        const r = await f.root.ocm(['up'], { timeoutMs: 900_000 });
        await waitAllHealthy(ports, 5000);
        t.ocmWait.push(r.ms);
        ctx.log(`  ocm up: ${r.ms.toFixed(0)} ms`);
        await teardown(f);
      },
      async () => {
        const started = process.hrtime.bigint();
        await f.root.compose(['up', '-d'], { timeoutMs: 900_000 });
        await waitAllHealthy(ports, 600_000);
        t.composeWait.push(since(started));
        ctx.log(`  docker-compose up -d + health: ${since(started).toFixed(0)} ms`);
        await teardown(f);
      },
    ]);
    await alternate(ctx.reps, [
      async () => {
        const r = await f.root.ocm(['up', '--no-wait'], { timeoutMs: 900_000 });
        await expectRunning(f, 'ocm up --no-wait');
        t.ocmNoWait.push(r.ms);
        ctx.log(`  ocm up --no-wait: ${r.ms.toFixed(0)} ms`);
        await teardown(f);
      },
      async () => {
        const r = await f.root.compose(['up', '-d'], { timeoutMs: 900_000 });
        await expectRunning(f, 'docker-compose up -d');
        t.composeNoWait.push(r.ms);
        ctx.log(`  docker-compose up -d: ${r.ms.toFixed(0)} ms`);
        await teardown(f);
      },
    ]);
    const n = f.users.length;
    return {
      rows: [
        compareRow(`\`ocm up\`, ${n} users, to all healthy (compared)`, 'ms', summarize(t.ocmWait), `docker-compose up -d + /healthz poll every ${POLL_MS} ms`, summarize(t.composeWait), 'info (see the reboot bench)', undefined),
        compareRow(`\`ocm up --no-wait\`, ${n} users, started`, 'ms', summarize(t.ocmNoWait), 'docker-compose up -d', summarize(t.composeNoWait), 'info', undefined),
      ],
      notes: [
        `every run starts with no containers and no networks of the root; ${n} users (${FLEET_LIMITS.cpus} CPU, ${FLEET_LIMITS.memory}, ${FLEET_LIMITS.pids} pids each; alice 2 CPU, 256m); 3 s pause after each teardown`,
        'the compared row waits for health on both sides (ocm up waits by default); the --no-wait row stops once Docker started the containers',
      ],
    };
  },
};

export const fleetNoopBench: Bench = {
  name: 'fleet-noop',
  title: '50 users, nothing changed',
  async run(ctx: Ctx) {
    const f = await ctx.running();
    // docker-compose recreates containers it did not create itself (its config-hash label is missing);
    // let it adopt them once so both sides then look at the same, unchanged containers.
    ctx.log('  docker-compose up -d once untimed (recreates to add its own labels)');
    await f.root.compose(['up', '-d'], { timeoutMs: 900_000 });
    await waitAllHealthy([...f.ports.values()], 300_000);
    const warm = await f.root.compose(['up', '-d']);
    if (/Recreating|Creating|Starting/.test(warm.stderr + warm.stdout)) throw new Error(`docker-compose up -d still changed something:\n${warm.stderr}`);
    const warmOcm = await f.root.ocm(['up']);
    if (/create|recreate|start:/.test(warmOcm.stdout.replace(/leave: .*/g, ''))) throw new Error(`ocm up still changed something:\n${warmOcm.stdout}`);
    await sleep(2000);
    const ocm: number[] = [];
    const compose: number[] = [];
    const reps = Math.max(ctx.reps, ctx.quick ? 3 : 10);
    await alternate(reps, [
      async () => { ocm.push((await f.root.ocm(['up'])).ms); },
      async () => { compose.push((await f.root.compose(['up', '-d'])).ms); },
    ]);
    const o = summarize(ocm);
    const c = summarize(compose);
    const n = f.users.length;
    return {
      rows: [
        compareRow(`\`ocm up\`, ${n} users, nothing to do`, 'ms', o, 'docker-compose up -d', c, 'ratio <= 0.2 and < 300 ms', (r) => r <= 0.2 && o.median < 300),
      ],
      notes: [`${reps} runs each, alternating; every gateway running and healthy; both commands report nothing to change`],
    };
  },
};
