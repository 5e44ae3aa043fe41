// A real user tree (200 MB file, 10k small files, odd names, modes, links)
// must come back byte-identical, with its metadata, from a bounded-memory backup.
import assert from 'node:assert/strict';
import { link as hardLink, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractBackup, listBackups, verifyBackup, type BackupResult } from '../src/index.js';
import { runFixture } from './fixtures/spawn-child.js';
import { buildUserTree, digestTree, isRoot, tempDir } from './helpers.js';

const BIG = 200 * 1024 * 1024;
const SMALL_FILES = 10_000;

type ChildResult = BackupResult & { maxRssKiB: number };

async function backupInChild(userDir: string, destDir: string, strategy: 'snapshot' | 'stream', time: string): Promise<ChildResult> {
  const out = await runFixture('backup-child.ts', [JSON.stringify({ user: 'alice', userDir, destDir, strategy, time })]);
  return JSON.parse(out.trim().split('\n').pop() as string) as ChildResult;
}

function describe(label: string, r: ChildResult): string {
  const mbps = r.sourceBytes / 1e6 / (r.durationMs / 1000);
  return `${label}: ${(r.sourceBytes / 1e6).toFixed(1)} MB, ${r.files} files in ${r.durationMs} ms (${mbps.toFixed(1)} MB/s), frozen ${r.frozenMs} ms (no guard: walk + changed files), archive ${(r.bytes / 1e6).toFixed(1)} MB, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`;
}

test('a 200 MB + 10k-file tree round-trips byte-identical with bounded memory', { timeout: 300_000 }, async (t) => {
  const root = await tempDir(t, 'roundtrip');
  const userDir = join(root, 'users', 'alice');
  const backups = join(root, 'backups');
  let t0 = performance.now();
  const lap = (label: string): void => {
    t.diagnostic(`${label}: ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
  };
  // 16 KiB random blocks: compressible like a database (incompressible throughput: see consistency.test.ts).
  await buildUserTree(userDir, { bigFileBytes: BIG, bigFilePeriod: 16 << 10, smallFiles: SMALL_FILES });
  lap('build tree');
  // Digest the source while the backups run (reading does not touch mtimes).
  const sourceDigests = Promise.all([digestTree(join(userDir, 'state')), digestTree(join(userDir, 'config'))]);
  sourceDigests.catch(() => undefined);

  const small = join(root, 'users', 'tiny');
  await buildUserTree(small);
  const baseline = await backupInChild(small, join(root, 'tiny-backups'), 'snapshot', '2026-01-01T03:00:00Z');
  lap('baseline backup');
  // The same 200 MB file alone (hard-linked, no extra disk), to separate data size from file count.
  const bigOnly = join(root, 'users', 'big');
  await mkdir(join(bigOnly, 'state'), { recursive: true });
  await mkdir(join(bigOnly, 'config'));
  await hardLink(join(userDir, 'state', 'openclaw.sqlite'), join(bigOnly, 'state', 'openclaw.sqlite'));
  const big = await backupInChild(bigOnly, join(root, 'big-backups'), 'snapshot', '2026-01-01T04:00:00Z');
  lap('200 MB file backup');
  const snap = await backupInChild(userDir, join(backups, 'alice'), 'snapshot', '2026-01-02T03:00:00Z');
  lap('backup in child');
  t.diagnostic(describe('baseline (tiny tree)', baseline));
  t.diagnostic(describe('one 200 MB file', big));
  t.diagnostic(describe('200 MB + 10k files', snap));

  // Memory must not grow with the data: 200 MB more source costs a few MiB of
  // buffers; 10k files add their metadata (manifest, entry lists), not their bytes.
  const growth = (r: ChildResult): number => (r.maxRssKiB - baseline.maxRssKiB) / 1024;
  t.diagnostic(`peak RSS growth over the tiny-tree baseline: ${growth(big).toFixed(0)} MiB (200 MB file), ${growth(snap).toFixed(0)} MiB (+10k files)`);
  assert.ok(growth(big) < 64, `peak RSS grew by ${growth(big).toFixed(0)} MiB for one 200 MB file`);
  assert.ok(growth(snap) < 160, `peak RSS grew by ${growth(snap).toFixed(0)} MiB for the 200 MB + 10k-file tree`);
  assert.ok(snap.files >= SMALL_FILES + 8);

  const listed = await listBackups(backups, 'alice', { check: true });
  assert.deepEqual(listed.map((b) => [b.archive, b.verified]), [[snap.archive, true]]);
  const st = await lstat(snap.archive);
  assert.equal(st.mode & 0o777, 0o600);

  lap('list with check');
  const report = await verifyBackup(snap.archive);
  assert.equal(report.files, snap.files);
  assert.equal(report.sourceBytes, snap.sourceBytes);
  lap('verify');

  const dest = join(root, 'restored');
  await extractBackup(snap.archive, dest);
  lap('extract (verify + extract + fsync)');
  const [stateWant, configWant] = await sourceDigests;
  for (const [tree, want] of [['state', stateWant], ['config', configWant]] as const) {
    const got = await digestTree(join(dest, tree));
    assert.equal(got.size, want.size, `${tree}: entry count`);
    for (const [path, w] of want) assert.deepEqual(got.get(path), isRoot ? w : { ...w, uid: got.get(path)?.uid, gid: got.get(path)?.gid }, `${tree}/${path}`);
    const [a, b] = await Promise.all([lstat(join(userDir, tree)), lstat(join(dest, tree))]);
    assert.equal(b.mode, a.mode, `${tree} root mode`);
    assert.equal(Math.round(b.mtimeMs), Math.round(a.mtimeMs), `${tree} root mtime`);
    if (isRoot) assert.deepEqual([b.uid, b.gid], [a.uid, a.gid]);
  }
  lap('compare');
  const link = await lstat(join(dest, 'state', 'current.sqlite'));
  assert.ok(link.isSymbolicLink(), 'symlinks come back as symlinks');
});
