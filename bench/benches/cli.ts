// CLI start-up: `ocm --version` and `ocm list` on a 200-user root, against a
// bare `node -e 0`, through hyperfine (no shell, warm-up runs first).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRoot } from '../lib/bench-root.js';
import { FLEET_LIMITS } from '../lib/context.js';
import { run } from '../lib/proc.js';
import { compareRow, type Row } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

/** The target is absolute; node -e 0 is there to show what node alone costs. */
const underLimit = (row: Row): Row => ({ ...row, verdict: row.ocm.median < 200 ? 'PASS' : 'MISS' });

interface HyperfineJson { results: Array<{ command: string; times: number[]; user: number; system: number }> }

export const cliBench: Bench = {
  name: 'cli',
  title: 'CLI start',
  async run(ctx) {
    const users = 200;
    const root = await createRoot(ctx.ocmBin, {
      project: 'benchc', portBase: 14400, portCount: 300, pool: '10.255.0.0/16', limits: FLEET_LIMITS, runId: ctx.runId,
    });
    // 200 `ocm add` runs would take minutes: list the users in ocm.yaml, as a hand edit would, and let `ocm render` write their files.
    const path = join(root.root, 'ocm.yaml');
    const entries = Array.from({ length: users }, (_, i) => `  - name: user${String(i + 1).padStart(3, '0')}\n    port: ${root.portBase + i}\n    enabled: true\n    env: {}\n`).join('');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^users: \[\]\n/m, `users:\n${entries}`));
    await root.ocm(['render']);
    await root.ocm(['render', '--check']);
    const listed = await root.ocm(['list']);
    const rows = listed.stdout.trim().split('\n').length - 1;
    if (rows !== users) throw new Error(`ocm list printed ${rows} users, expected ${users}`);

    const runs = ctx.quick ? 10 : 40;
    const json = join(ctx.scratch('cli'), 'hyperfine.json');
    const commands = ['node -e 0', `${ctx.ocmBin} --version`, `${ctx.ocmBin} --root ${root.root} list`];
    await run('hyperfine', ['-N', '--warmup', '5', '--runs', String(runs), '--export-json', json, ...commands], { timeoutMs: 600_000 });
    const result = JSON.parse(readFileSync(json, 'utf8')) as HyperfineJson;
    const ms = (i: number) => summarize((result.results[i]?.times ?? []).map((s) => s * 1000));
    const node = ms(0);
    return {
      rows: [
        underLimit(compareRow('`ocm --version`', 'ms', ms(1), 'node -e 0', node, '< 200 ms', undefined)),
        underLimit(compareRow(`\`ocm list\`, ${users} users`, 'ms', ms(2), 'node -e 0', node, '< 200 ms', undefined)),
      ],
      notes: [
        `mean CPU time (user + sys), less sensitive to other load than wall time: ${result.results.map((r, i) => `${['node -e 0', 'ocm --version', 'ocm list'][i]} ${((r.user + r.system) * 1000).toFixed(0)} ms`).join(', ')}`,
        `hyperfine -N --warmup 5 --runs ${runs}; the launcher run directly (#!/usr/bin/env node), as a user types it; ${users} users written into ocm.yaml and rendered with \`ocm render\``,
      ],
    };
  },
};
