// Backup and restore of a ~1 GiB state: `ocm backup` against `tar -czf` at the
// same gzip level, `ocm restore --to` against `tar -xzf`; wall time and peak RSS.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_GZIP_LEVEL } from '@ocm/backup';
import { createRoot } from '../lib/bench-root.js';
import { FLEET_LIMITS } from '../lib/context.js';
import { run } from '../lib/proc.js';
import { absoluteRow, compareRow } from '../lib/report.js';
import { mb } from '../lib/rss.js';
import { alternate, summarize } from '../lib/stats.js';
import { FULL_STATE, QUICK_STATE, generateState } from '../lib/state-gen.js';
import type { Bench } from './types.js';

/** The level packages/backup compresses at: its own constant, so the two never drift apart. */
export function backupGzipLevel(): number {
  return DEFAULT_GZIP_LEVEL;
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

export const backupBench: Bench = {
  name: 'backup',
  title: 'backup and restore of a 1 GiB state',
  async run(ctx) {
    const root = await createRoot(ctx.ocmBin, {
      project: 'benchb', portBase: 14300, portCount: 10, pool: '10.254.0.0/16', limits: FLEET_LIMITS, runId: ctx.runId,
    });
    await root.ocm(['add', 'big', '--no-start']);
    const userDir = join(root.root, 'users/big');
    const shape = ctx.quick ? QUICK_STATE : FULL_STATE;
    ctx.log(`  generating state: ${shape.largeFiles} x ${shape.largeMiB} MiB + ${shape.smallFiles} small files`);
    await generateState(join(userDir, 'state'), shape, 1000, 1000);
    const bytes = treeBytes(userDir);
    const level = backupGzipLevel();
    const backupsDir = join(root.root, 'backups/big');
    const out = ctx.scratch('backup');
    const tarFile = join(out, 'tar.tar.gz');
    const mbps = (ms: number) => bytes / 1024 ** 2 / (ms / 1000);
    const archives = () => (existsSync(backupsDir) ? readdirSync(backupsDir) : []).filter((f) => f.endsWith('.tar.gz')).map((f) => join(backupsDir, f));
    // Read the tree once so neither side pays for the first trip from disk.
    await run('tar', ['-cf', '/dev/null', '-C', userDir, 'state', 'config']);

    const b = { ocmMs: [] as number[], ocmRss: [] as number[], tarMs: [] as number[], tarRss: [] as number[], archive: 0 };
    let keep: string | undefined;
    await alternate(ctx.reps, [
      async () => {
        for (const a of archives()) for (const f of [a, `${a}.sha256`]) rmSync(f, { force: true });
        const r = await root.ocm(['backup', 'big'], { measureRss: true, timeoutMs: 900_000 });
        b.ocmMs.push(r.ms);
        b.ocmRss.push(mb(r.peakRssKb as number));
        ctx.log(`  ocm backup: ${r.ms.toFixed(0)} ms, ${mb(r.peakRssKb as number).toFixed(0)} MB`);
        keep = archives()[0];
        b.archive = statSync(keep as string).size;
        // Archive names have one-second resolution: never let two runs share one.
        await sleep(1100);
      },
      async () => {
        const r = await run('tar', ['-I', `gzip -${level}`, '-cf', tarFile, '-C', userDir, 'state', 'config'], { measureRss: true, timeoutMs: 900_000 });
        b.tarMs.push(r.ms);
        b.tarRss.push(mb(r.peakRssKb as number));
        ctx.log(`  tar -czf: ${r.ms.toFixed(0)} ms`);
        rmSync(tarFile, { force: true });
      },
    ]);
    if (keep === undefined) throw new Error('no archive was written');
    const archive = keep;

    const r = { ocmMs: [] as number[], ocmRss: [] as number[], tarMs: [] as number[], tarRss: [] as number[], syncedMs: [] as number[] };
    let n = 0;
    await alternate(ctx.reps, [
      async () => {
        const dest = join(out, `restore-ocm-${++n}`);
        const res = await root.ocm(['restore', 'big', archive, '--to', dest], { measureRss: true, timeoutMs: 900_000 });
        r.ocmMs.push(res.ms);
        r.ocmRss.push(mb(res.peakRssKb as number));
        ctx.log(`  ocm restore --to: ${res.ms.toFixed(0)} ms, ${mb(res.peakRssKb as number).toFixed(0)} MB`);
        rmSync(dest, { recursive: true, force: true });
      },
      async () => {
        const dest = join(out, `restore-tar-${++n}`);
        await run('mkdir', ['-p', dest]);
        const res = await run('tar', ['-xzf', archive, '-C', dest], { measureRss: true, timeoutMs: 900_000 });
        r.tarMs.push(res.ms);
        r.tarRss.push(mb(res.peakRssKb as number));
        ctx.log(`  tar -xzf: ${res.ms.toFixed(0)} ms`);
        rmSync(dest, { recursive: true, force: true });
      },
      async () => {
        // ocm restore flushes what it wrote before it counts as done; tar leaves it in the page cache.
        const dest = join(out, `restore-tar-sync-${++n}`);
        await run('mkdir', ['-p', dest]);
        const res = await run('sh', ['-c', 'tar -xzf "$1" -C "$2" && sync -f "$2"', 'sh', archive, dest], { timeoutMs: 900_000 });
        r.syncedMs.push(res.ms);
        ctx.log(`  tar -xzf + sync -f: ${res.ms.toFixed(0)} ms`);
        rmSync(dest, { recursive: true, force: true });
      },
    ]);

    const ocmB = summarize(b.ocmMs.map(mbps));
    const tarB = summarize(b.tarMs.map(mbps));
    const ocmR = summarize(r.ocmMs.map(mbps));
    const tarR = summarize(r.tarMs.map(mbps));
    return {
      rows: [
        compareRow('`ocm backup` throughput', 'MB/s', ocmB, `tar -I 'gzip -${level}' -cf`, tarB, '>= 0.9', (x) => x >= 0.9),
        compareRow('`ocm backup` wall time', 'ms', summarize(b.ocmMs), `tar -I 'gzip -${level}' -cf`, summarize(b.tarMs), 'info', undefined),
        absoluteRow('`ocm backup` peak RSS', 'MB', summarize(b.ocmRss), '< 150 MB', (m) => m < 150, `tar+gzip: ${summarize(b.tarRss).median.toFixed(1)} MB (tar process only)`),
        compareRow('`ocm restore --to` throughput', 'MB/s', ocmR, 'tar -xzf', tarR, '>= 0.9', (x) => x >= 0.9),
        compareRow('`ocm restore --to` wall time', 'ms', summarize(r.ocmMs), 'tar -xzf', summarize(r.tarMs), 'info', undefined),
        compareRow('`ocm restore --to` throughput', 'MB/s', ocmR, 'tar -xzf && sync -f (flushed to disk, as ocm does)', summarize(r.syncedMs.map(mbps)), 'info', undefined),
        absoluteRow('`ocm restore --to` peak RSS', 'MB', summarize(r.ocmRss), 'info', undefined),
      ],
      notes: [
        `state: ${(bytes / 1024 ** 3).toFixed(2)} GiB in ${shape.largeFiles} files of ${shape.largeMiB} MiB (3/4 random, 1/4 log text) and ${shape.smallFiles} files of 1-${shape.smallMaxKiB} KiB; archive ${(b.archive / 1024 ** 2).toFixed(0)} MiB; gzip level ${level} on both sides (read from packages/backup)`,
        'throughput = state bytes / wall time of the whole command; the state is in the page cache for both sides; the user has no container (nothing to pause)',
        "`ocm backup` also verifies the archive it wrote (a second full read) and applies retention; `ocm restore --to` checks every file's sha256 and the archive's checksum while it extracts; tar does neither",
        'peak RSS from /usr/bin/time -v (for tar: the tar process, not its gzip child)',
      ],
    };
  },
};
