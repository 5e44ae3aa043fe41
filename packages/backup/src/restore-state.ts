// Restore is time travel: extract and verify beside the live trees in one
// read, stop, swap by rename, rotate the token, start and wait for health;
// any failure after the stop swaps back.
import { access, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { OcmError, isOcmError } from '@ocm/core';
import { formatStamp } from './archive-name.js';
import { fsyncDir, removeTree } from './durable-fs.js';
import { extractBackup, type ExtractReport, type Owner } from './extract-backup.js';
import type { Clock, ContainerControl } from './types.js';

export interface RestoreStateOptions {
  archive: string;
  /** `<root>/users/<name>`, holding `state/` and `config/`. */
  userDir: string;
  control: ContainerControl;
  /**
   * Gives the gateway a new token (the one it knew at backup time must not
   * come back) and returns how to put the previous one back if the restore
   * fails after all.
   */
  rotateToken: () => Promise<() => Promise<void>>;
  waitHealthy: () => Promise<void>;
  clock: Clock;
  expectOwner?: Owner;
  /** Each step as it begins, in words for a progress line. */
  onStep?: (words: string) => void;
}

export interface RestoreResult {
  archive: string;
  userDir: string;
  /** Trees replaced, e.g. ['state', 'config']. */
  restored: string[];
  backupCreatedAt: Date;
  durationMs: number;
  /** From the stop of the running gateway (or the swap, when none ran) until it answered healthy. */
  downtimeMs: number;
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

interface Swap {
  live: string;
  aside: string;
  movedAside: boolean;
  placed: boolean;
}

/** Puts the previous trees back; returns the asides that could not be put back. */
async function swapBack(swaps: readonly Swap[], scratch: string): Promise<string[]> {
  const stuck: string[] = [];
  for (const s of [...swaps].reverse()) {
    try {
      if (s.placed) await rename(s.live, join(scratch, `failed-${s.live.split('/').pop() ?? 'tree'}`));
      if (s.movedAside) await rename(s.aside, s.live);
    } catch {
      if (s.movedAside) stuck.push(s.aside);
    }
  }
  return stuck;
}

export async function restoreState(opts: RestoreStateOptions): Promise<RestoreResult> {
  const t0 = performance.now();
  const stamp = formatStamp(opts.clock.now());
  const scratch = join(opts.userDir, `.restore-tmp-${stamp}`);
  // Extracted (and verified in the same read) beside the live trees while the
  // gateway keeps running: a refused archive never stops it, and it is down
  // only for the swap.
  opts.onStep?.('unpacking and verifying the archive');
  const { verify: report } = await extractBackup(opts.archive, scratch, opts.expectOwner ? { expectOwner: opts.expectOwner } : {});
  const prefixes = report.manifest.sources.filter((p) => report.manifest.entries.some((e) => e.path === p && e.type === 'directory'));
  if (!prefixes.includes('state')) {
    await removeTree(scratch);
    throw new OcmError('OCM_E_BACKUP_CORRUPT', `${opts.archive} holds no state tree`, { details: { archive: opts.archive } });
  }
  const swaps: Swap[] = prefixes.map((p) => ({
    live: join(opts.userDir, p),
    aside: join(opts.userDir, `${p}.before-restore-${stamp}`),
    movedAside: false,
    placed: false,
  }));
  let step = 'stop the container';
  let wasRunning = true;
  let undoToken: (() => Promise<void>) | undefined;
  let down = performance.now();
  try {
    wasRunning = await opts.control.isRunning();
    down = performance.now();
    if (wasRunning) {
      opts.onStep?.('stopping the gateway');
      await opts.control.stop();
    }
    step = 'swap the trees';
    opts.onStep?.('putting the restored state in place');
    for (const s of swaps) {
      if (await exists(s.live)) {
        await rename(s.live, s.aside);
        s.movedAside = true;
      }
      await rename(join(scratch, s.live.split('/').pop() as string), s.live);
      s.placed = true;
    }
    await fsyncDir(opts.userDir);
    step = 'rotate the gateway token';
    opts.onStep?.('giving the gateway a new token');
    undoToken = await opts.rotateToken();
    step = 'start the container';
    opts.onStep?.('starting the gateway');
    await opts.control.start();
    step = 'wait for the gateway to be healthy';
    await opts.waitHealthy();
  } catch (error) {
    opts.onStep?.('putting the previous state back');
    await opts.control.stop().catch(() => undefined);
    const stuck = await swapBack(swaps, scratch);
    await fsyncDir(opts.userDir).catch(() => undefined);
    // The previous state goes back with the token it was used with.
    const tokenBack = undoToken === undefined ? true : await undoToken().then(() => true, () => false);
    if (stuck.length === 0) {
      // The scratch now holds the trees the gateway ran on (failed-state): the
      // tenant's, so they go by descriptor (removeTree), never a recursive rm by path.
      await removeTree(scratch);
      if (wasRunning) await opts.control.start().catch(() => undefined);
    }
    const kept = (stuck.length === 0 ? 'the previous state was put back' : `the previous state is kept in ${stuck.join(', ')}`)
      + (tokenBack ? '' : ', but the previous token could not be put back (`ocm token <name>` shows the one in force)');
    const why = isOcmError(error) ? `${error.code}: ${error.message}` : (error as Error).message;
    throw new OcmError('OCM_E_RESTORE_FAILED', `restore of ${opts.archive} failed (could not ${step}: ${why}); ${kept}`, {
      cause: error,
      details: { archive: opts.archive, step, kept: stuck },
      ...(stuck.length > 0 ? { hint: `move ${stuck.join(', ')} back into place by hand, then start the container` } : {}),
    });
  }
  const downtimeMs = Math.round(performance.now() - down);
  // Only now, with a healthy gateway on the restored state, drop the old trees.
  for (const s of swaps) if (s.movedAside) await removeTree(s.aside);
  await removeTree(scratch);
  return {
    archive: opts.archive,
    userDir: opts.userDir,
    restored: prefixes,
    backupCreatedAt: report.createdAt,
    durationMs: Math.round(performance.now() - t0),
    downtimeMs,
  };
}

/** `ocm restore --to DIR`: extract for inspection, leaving the live user alone. */
export function restoreTo(archive: string, dir: string): Promise<ExtractReport> {
  return extractBackup(archive, dir, { durable: false });
}
