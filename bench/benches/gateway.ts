// What a user waits for, on the real OpenClaw gateway beside the fixture:
// `ocm add` until healthy, a backup's freeze, a restore's downtime, an
// upgrade's time per user. The fixture shows ocm's own share; the real
// gateway's start (10-40 s, ~700 MB) is what an admin lives with.
import { spawnSync } from 'node:child_process';
import { createRoot, FIXTURE_IMAGE } from '../lib/bench-root.js';
import { absoluteRow } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { REAL_IMAGE, requireRealImage } from '../lib/real-image.js';
import type { Bench } from './types.js';

const LIMITS = { cpus: 1, memory: '2g', pids: 512 };

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  if (m === null) throw new Error(`no ${String(re)} in: ${text.slice(0, 300)}`);
  return Number(m[1]);
};

/** The archive size `ocm backup` prints ("26.6 MB", "1.20 GB", binary units), in MB. */
function archiveMb(text: string): number {
  const m = /\s(\d+(?:\.\d+)?) (MB|GB)\s/.exec(text);
  if (m === null) throw new Error(`no archive size in: ${text.slice(0, 300)}`);
  const scale = m[2] === 'GB' ? 1024 : 1;
  return Number(m[1]) * scale;
}

export const gatewayBench: Bench = {
  name: 'gateway',
  title: 'the real gateway beside the fixture: add, backup, restore, upgrade',
  async run(ctx) {
    requireRealImage();
    const rows = [];
    for (const [label, image, pool, base] of [['real gateway', REAL_IMAGE, '10.249.0.0/16', 14600], ['fixture', FIXTURE_IMAGE, '10.248.0.0/16', 14700]] as const) {
      const root = await createRoot(ctx.ocmBin, { project: label === 'fixture' ? 'benchgf' : 'benchgr', portBase: base, portCount: 20, pool, limits: LIMITS, runId: ctx.runId, image, healthTimeoutSeconds: 300 });
      const add: number[] = [];
      const freeze: number[] = [];
      const backupMs: number[] = [];
      const backupMb: number[] = [];
      const restore: number[] = [];
      const down: number[] = [];
      const upgrade: number[] = [];
      // Another image of the same gateway (another id, so the upgrade is real).
      const next = `${image.replace(/:.*/, '')}:benchnext`;
      const built = spawnSync('docker', ['build', '-q', '-t', next, '-'], { input: `FROM ${image}\nLABEL ocm.gateway="" ocm.gateway.hash="" ocm.bench=1 ocm.bench.variant=next\n`, encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
      if (built.status !== 0) throw new Error(`docker build ${next}: ${built.stderr}`);
      // A failed run must not leave a real gateway running under the benches after it.
      try {
        for (let i = 0; i < ctx.reps; i++) {
          const name = `u${i}`;
          const added = await root.ocm(['add', name]);
          add.push(added.ms);
          const backup = await root.ocm(['backup', name]);
          freeze.push(num(backup.stdout, /frozen (\d+) ms/));
          backupMs.push(backup.ms);
          backupMb.push(archiveMb(backup.stdout));
          const restored = await root.ocm(['restore', name, '--yes']);
          restore.push(num(restored.stdout, / in (\d+(?:\.\d+)?) s/) * 1000);
          down.push(num(restored.stdout, /was down (\d+(?:\.\d+)?) s/) * 1000);
          // A new user runs the root's image, which an earlier upgrade may have moved: upgrade to the other one.
          let upgraded = await root.ocm(['upgrade', name, '--image', next]);
          if (/already running this image/.test(upgraded.stdout)) upgraded = await root.ocm(['upgrade', name, '--image', image]);
          upgrade.push(num(upgraded.stdout, /\((\d+(?:\.\d+)?)s\)/) * 1000);
          await root.ocm(['remove', name]);
        }
      } finally {
        await root.reap();
        spawnSync('docker', ['rmi', next], { stdio: 'ignore' });
      }
      rows.push(
        absoluteRow(`${label}: \`ocm add\` to healthy`, 'ms', summarize(add), 'info', undefined),
        absoluteRow(`${label}: backup, gateway frozen`, 'ms', summarize(freeze), 'info', undefined),
        absoluteRow(`${label}: backup, whole command`, 'ms', summarize(backupMs), 'info', undefined),
        absoluteRow(`${label}: backup, archive of a new user`, 'MB', summarize(backupMb), 'info', undefined),
        absoluteRow(`${label}: restore, whole command`, 'ms', summarize(restore), 'info', undefined),
        absoluteRow(`${label}: restore, user down`, 'ms', summarize(down), 'info', undefined),
        absoluteRow(`${label}: upgrade of one user`, 'ms', summarize(upgrade), 'info', undefined),
      );
    }
    return {
      rows,
      notes: [
        `each run adds a user, backs it up, restores it while it runs, upgrades it to another tag of the same image, and removes it; limits ${LIMITS.cpus} CPU, ${LIMITS.memory}`,
        'the real gateway is openclaw from the npm registry built by scripts/build-gateway-image.sh; its start dominates add, restore and upgrade',
      ],
    };
  },
};
