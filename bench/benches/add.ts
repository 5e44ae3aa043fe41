// Adding one user until their gateway is healthy: `ocm add` against the same
// rendered service brought up by `docker-compose up -d <svc>` plus a health wait.
import { setTimeout as sleep } from 'node:timers/promises';
import { createRoot, userPorts } from '../lib/bench-root.js';
import { FLEET_LIMITS } from '../lib/context.js';
import { healthy, POLL_MS, waitAllHealthy } from '../lib/health.js';
import { compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

export const addBench: Bench = {
  name: 'add',
  title: 'add one user, to healthy',
  async run(ctx) {
    const root = await createRoot(ctx.ocmBin, {
      project: 'bencha', portBase: 14000, portCount: 50, pool: '10.252.0.0/16', limits: FLEET_LIMITS, runId: ctx.runId,
    });
    const ocmMs: number[] = [];
    const composeMs: number[] = [];
    let n = 0;
    const ocmSide = async (record: boolean): Promise<void> => {
      const name = `o${++n}`;
      const r = await root.ocm(['add', name]);
      const port = userPorts(root.root).get(name) as number;
      if (!(await healthy(port))) throw new Error(`ocm add ${name} returned but /healthz is not ok`);
      if (record) ocmMs.push(r.ms);
      await root.ocm(['remove', name]);
      await sleep(1000);
    };
    const composeSide = async (record: boolean): Promise<void> => {
      const name = `c${++n}`;
      await root.ocm(['add', name, '--no-start']);
      const port = userPorts(root.root).get(name) as number;
      const started = process.hrtime.bigint();
      await root.compose(['up', '-d', name]);
      await waitAllHealthy([port], 120_000);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (record) composeMs.push(ms);
      await root.ocm(['remove', name]);
      await sleep(1000);
    };
    if (!ctx.quick) {
      ctx.log('  warm-up: one untimed run of each side');
      await ocmSide(false);
      await composeSide(false);
    }
    await alternate(ctx.reps, [() => ocmSide(true), () => composeSide(true)]);
    const ocm = summarize(ocmMs);
    const compose = summarize(composeMs);
    return {
      rows: [
        compareRow('`ocm add <name>` to healthy', 'ms', ocm, `docker-compose up -d <svc> + /healthz poll every ${POLL_MS} ms`, compose, 'ratio <= 0.8', (r) => r <= 0.8),
      ],
      notes: [
        `each side starts from a root whose compose file holds only the new user; the ocm side includes recording the user and rendering the files, the compose side starts from the file \`ocm add --no-start\` rendered`,
        `limits ${FLEET_LIMITS.cpus} CPU, ${FLEET_LIMITS.memory}, ${FLEET_LIMITS.pids} pids`,
      ],
    };
  },
};
