// Backups the admin takes by hand are a series of their own: kept by
// keepManual, never pruned by the nightly run nor prune it; and `ocm backups`
// shows the last verify result without re-reading anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ocm, tempDir } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

interface Listed { archive: string; kind: string; verified: boolean | null; lastVerify: { ok: boolean; at: string; check: string; reason?: string } | null }

const list = async (root: string): Promise<Listed[]> => {
  const r = await ocm(['backups', 'alice', '--json'], { root });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
};
const names = (xs: Listed[]): string[] => xs.map((x) => basename(x.archive));
/** Archive names have second precision: the next backup must fall in another second. */
const nextSecond = (): Promise<void> => new Promise((res) => setTimeout(res, 1100));

async function backup(root: string, ...extra: string[]): Promise<string> {
  const r = await ocm(['backup', 'alice', ...extra], { root });
  assert.equal(r.code, 0, r.stderr);
  await nextSecond();
  return r.stdout;
}

test('manual backups are kept by keepManual, apart from scheduled ones; ocm backups shows the last verify result', async (t) => {
  const { root } = await testRoot(t);
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);

  // Three manual backups the same day: all three kept, nothing pruned.
  for (let i = 0; i < 3; i++) assert.doesNotMatch(await backup(root), /pruned/);
  const three = await list(root);
  assert.equal(three.length, 3, names(three).join(' '));
  for (const b of three) {
    assert.equal(b.kind, 'manual');
    assert.match(basename(b.archive), /^alice-\d{8}T\d{6}Z-manual\.tar\.gz$/);
    // The read-back at backup time is recorded.
    assert.equal(b.lastVerify?.ok, true);
    assert.equal(b.lastVerify?.check, 'full');
    assert.equal(b.verified, null, 'not re-hashed without --check');
  }
  const table = await ocm(['backups', 'alice'], { root });
  assert.equal(table.code, 0, table.stderr);
  const rows = table.stdout.split('\n').filter((l) => l.includes('-manual.tar.gz'));
  assert.equal(rows.length, 3, table.stdout);
  for (const row of rows) assert.match(row, /\bmanual\s+ok \d{4}-\d{2}-\d{2} \d{2}:\d{2}\s/, row);

  // keepManual: 2 keeps the newest two once the next manual backup is made.
  const yaml = `${root}/ocm.yaml`;
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('keepManual: 5', 'keepManual: 2'));
  assert.match(await backup(root), /pruned 2/);
  const two = await list(root);
  assert.equal(two.length, 2);
  assert.ok(two.every((b) => b.kind === 'manual'));
  assert.equal(names(two)[1], names(three)[0], 'the newest of the first three is still there');

  // Scheduled runs prune only scheduled archives: the manual two stay.
  assert.doesNotMatch(await backup(root, '--scheduled'), /pruned/);
  assert.match(await backup(root, '--scheduled'), /pruned 1/, 'a second nightly archive the same day replaces the first');
  const mixed = await list(root);
  assert.deepEqual(mixed.map((b) => b.kind), ['scheduled', 'manual', 'manual']);
  assert.deepEqual(names(mixed).slice(1), names(two));
  assert.match(basename(mixed[0]?.archive ?? ''), /^alice-\d{8}T\d{6}Z\.tar\.gz$/);
  // And a manual run never prunes the scheduled one.
  assert.match(await backup(root), /pruned 1/);
  const after = await list(root);
  assert.deepEqual(after.map((b) => b.kind), ['manual', 'scheduled', 'manual']);
  assert.equal(names(after)[1], names(mixed)[0], 'the scheduled archive survived the manual run');
  assert.equal(names(after)[2], names(mixed)[1], 'the older manual one went, the newer stayed');

  // A failed verify is recorded and shown without --check.
  const victim = after[2]?.archive as string;
  const bytes = readFileSync(victim);
  const mid = Math.floor(bytes.length / 2);
  bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
  writeFileSync(victim, bytes);
  const verify = await ocm(['backup', 'verify', victim], { root });
  assert.equal(verify.code, 1);
  const shown = await ocm(['backups', 'alice'], { root });
  const victimRow = shown.stdout.split('\n').find((l) => l.includes(basename(victim)));
  assert.match(victimRow ?? '', /FAILED: checksum mismatch/, shown.stdout);
  assert.equal((await list(root)).find((b) => b.archive === victim)?.lastVerify?.ok, false);

  // --check records too: the newest archive, verified at backup time, re-hashed now.
  const checked = JSON.parse((await ocm(['backups', 'alice', '--json', '--check'], { root })).stdout) as Listed[];
  assert.equal(checked[0]?.lastVerify?.check, 'checksum');
  assert.equal((await list(root))[0]?.lastVerify?.check, 'checksum');

  // An archive named before the marker existed still lists (as scheduled) and restores.
  const newest = after[0]?.archive as string;
  const oldName = `${dirname(newest)}/${basename(newest).replace('-manual', '')}`;
  const sha = readFileSync(`${newest}.sha256`, 'utf8').split(' ')[0] as string;
  renameSync(newest, oldName);
  renameSync(`${newest}.sha256`, `${oldName}.sha256`);
  writeFileSync(`${oldName}.sha256`, `${sha}  ${basename(oldName)}\n`);
  const withOld = await list(root);
  const old = withOld.find((b) => b.archive === oldName);
  assert.equal(old?.kind, 'scheduled');
  const dest = `${tempDir(t)}/x`;
  const restored = await ocm(['restore', 'alice', basename(oldName), '--to', dest], { root });
  assert.equal(restored.code, 0, restored.stderr);
  assert.ok(readdirSync(dest).includes('state'));
});
