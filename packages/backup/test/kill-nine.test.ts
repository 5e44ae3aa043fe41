// kill -9 at a random moment of a backup: whatever is left on disk is either a
// complete, verifiable backup or something listBackups and verify both ignore.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { listBackups, verifyBackup } from '../src/index.js';
import { spawnFixture, waitForLine } from './fixtures/spawn-child.js';
import { buildUserTree, names, tempDir } from './helpers.js';

const TRIALS = Number(process.env.OCM_KILL9_TRIALS ?? 20);

function startChild(userDir: string, destDir: string, hour: number, waitForGo = false): ChildProcess {
  const time = new Date(Date.UTC(2026, 4, 1, hour)).toISOString();
  return spawnFixture('backup-child.ts', [JSON.stringify({ user: 'alice', userDir, destDir, time, waitForGo })], waitForGo ? 'pipe' : 'ignore');
}

/** A child that has loaded everything and starts its backup when told. */
async function armed(userDir: string, destDir: string, hour: number): Promise<{ child: ChildProcess; exited: Promise<unknown[]> }> {
  const child = startChild(userDir, destDir, hour, true);
  const exited = once(child, 'exit');
  await waitForLine(child, 'ready');
  return { child, exited };
}

/** Listed archives must verify (each checked once), anything else must not. */
async function assertInvariants(backups: string, destDir: string, verified: Set<string>): Promise<number> {
  const listed = await listBackups(backups, 'alice');
  for (const b of listed) {
    if (verified.has(b.archive)) continue;
    await verifyBackup(b.archive);
    verified.add(b.archive);
  }
  const good = new Set(listed.flatMap((b) => [b.archive, `${b.archive}.sha256`]));
  const onDisk = await names(destDir);
  // The sidecar lands before the rename: an archive under its final name is always a listed backup.
  assert.deepEqual(onDisk.filter((n) => /^alice-\d{8}T\d{6}Z\.tar\.gz$/.test(n) && !good.has(join(destDir, n))), [], 'a final-named archive that is not listed');
  for (const name of onDisk) {
    const path = join(destDir, name);
    if (good.has(path) || name === '.ocm-backup.lock' || name.endsWith('.snapshot')) continue;
    const archive = name.endsWith('.sha256') ? path.slice(0, -'.sha256'.length) : path;
    await assert.rejects(verifyBackup(archive), `${name} must not verify`);
  }
  return listed.length;
}

test(`kill -9 during createBackup never leaves a partial that lists or verifies (${TRIALS} trials)`, { timeout: 150_000 }, async (t) => {
  const root = await tempDir(t, 'kill9');
  const userDir = join(root, 'users', 'alice');
  const backups = join(root, 'backups');
  const destDir = join(backups, 'alice');
  await buildUserTree(userDir, { bigFileBytes: 8 << 20, smallFiles: 100 });
  const children = new Set<ChildProcess>();
  t.after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  const calibrate = startChild(userDir, destDir, 0);
  await waitForLine(calibrate, 'ready');
  const t0 = performance.now();
  await once(calibrate, 'exit');
  const fullMs = performance.now() - t0;

  let listedBefore = 1;
  let completed = 0;
  const verified = new Set<string>();
  // The next child loads its modules while the current trial runs.
  let next = armed(userDir, destDir, 1);
  for (let i = 1; i <= TRIALS; i += 1) {
    const { child, exited } = await next;
    children.add(child);
    if (i < TRIALS) next = armed(userDir, destDir, i + 1);
    const wait = Math.round(Math.random() * fullMs * 1.3);
    child.stdin?.write('go\n');
    await delay(wait);
    child.kill('SIGKILL');
    const [code] = (await exited) as [number | null];
    children.delete(child);
    const listed = await assertInvariants(backups, destDir, verified);
    // Nothing good is ever lost, and a kill after the rename still leaves a complete backup.
    assert.ok(listed >= listedBefore && listed <= listedBefore + 1, `trial ${i}: ${listed} listed after ${listedBefore}`);
    if (code === 0) assert.ok(listed > listedBefore, `trial ${i} exited 0, so its backup must be listed`);
    if (listed > listedBefore) completed += 1;
    t.diagnostic(`trial ${i}: killed after ${wait} ms, ${listed > listedBefore ? 'backup complete' : 'mid-backup'}${code === 0 ? ' (had exited)' : ''}`);
    listedBefore = listed;
  }
  t.diagnostic(`full backup ${Math.round(fullMs)} ms; ${completed}/${TRIALS} trials completed before the kill`);

  // The next run cleans up every leftover of the killed ones.
  const last = startChild(userDir, destDir, 23);
  const [code] = (await once(last, 'exit')) as [number | null];
  assert.equal(code, 0);
  const final = await listBackups(backups, 'alice');
  for (const b of final) await verifyBackup(b.archive);
  const left = await names(destDir);
  assert.deepEqual(left.filter((n) => !/^alice-\d{8}T\d{6}Z\.tar\.gz(\.sha256)?$/.test(n)), [], 'only archives and sidecars remain');
  assert.equal(left.length, 2 * final.length, 'every archive has its sidecar');
});
