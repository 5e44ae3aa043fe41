// A damaged archive is refused with OCM_E_BACKUP_CORRUPT, and refusing it
// changes nothing on disk.
import assert from 'node:assert/strict';
import { copyFile, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createBackup, extractBackup, noGuard, restoreState, verifyBackup, type ContainerControl } from '../src/index.js';
import { buildUserTree, craftArchive, digestTree, fixedClock, names, tempDir, writeSidecarFor } from './helpers.js';

async function goodBackup(t: TestContext): Promise<{ root: string; archive: string; userDir: string }> {
  const root = await tempDir(t, 'corrupt');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir, { bigFileBytes: 2 << 20, smallFiles: 50 });
  const r = await createBackup({
    user: 'alice',
    sources: [{ dir: join(userDir, 'state'), prefix: 'state' }, { dir: join(userDir, 'config'), prefix: 'config' }],
    destDir: join(root, 'backups', 'alice'),
    clock: fixedClock('2026-04-01T03:00:00Z'),
    consistency: noGuard,
  });
  return { root, archive: r.archive, userDir };
}

async function damaged(t: TestContext, how: (path: string) => Promise<void>, resign = false): Promise<{ root: string; archive: string; userDir: string }> {
  const ctx = await goodBackup(t);
  const bad = join(ctx.root, 'bad-20260401T030000Z.tar.gz');
  await copyFile(ctx.archive, bad);
  await copyFile(`${ctx.archive}.sha256`, `${bad}.sha256`);
  await writeFile(`${bad}.sha256`, (await readFile(`${bad}.sha256`, 'utf8')).replace(/ \S+\n$/, ` ${bad.split('/').pop()}\n`));
  await how(bad);
  // resign: a matching sidecar, so gzip/tar/manifest checks must catch it on their own.
  if (resign) await writeSidecarFor(bad);
  return { ...ctx, archive: bad };
}

async function flipByte(path: string, at: (size: number) => number): Promise<void> {
  const size = (await stat(path)).size;
  const handle = await open(path, 'r+');
  const buf = Buffer.alloc(1);
  await handle.read(buf, 0, 1, at(size));
  buf[0] = (buf[0] as number) ^ 0xff;
  await handle.write(buf, 0, 1, at(size));
  await handle.close();
}

async function assertRefusedCleanly(archive: string, root: string, pattern: RegExp): Promise<void> {
  const before = await names(root);
  await assert.rejects(verifyBackup(archive), (e: Error & { code?: string }) => e.code === 'OCM_E_BACKUP_CORRUPT' && pattern.test(e.message));
  await assert.rejects(extractBackup(archive, join(root, 'out')), { code: 'OCM_E_BACKUP_CORRUPT' });
  assert.deepEqual(await names(root), before, 'nothing written next to the destination');
}

const cases: Array<[string, (p: string) => Promise<void>, boolean, RegExp]> = [
  ['a flipped byte', (p) => flipByte(p, (n) => Math.floor(n / 2)), false, /does not match its checksum file/],
  ['a truncated archive', (p) => truncate(p, 4096), false, /does not match its checksum file/],
  ['a flipped byte, sidecar re-signed', (p) => flipByte(p, (n) => Math.floor(n / 2)), true, /not a readable|does not match the manifest/],
  ['a truncated archive, sidecar re-signed', (p) => truncate(p, 4096), true, /not a readable/],
  ['a missing sidecar', (p) => rm(`${p}.sha256`), false, /no valid checksum file/],
];

for (const [label, how, resign, pattern] of cases) {
  test(`${label} is refused as corrupt`, async (t) => {
    const { root, archive } = await damaged(t, how, resign);
    await assertRefusedCleanly(archive, root, pattern);
  });
}

test('a missing archive is OCM_E_BACKUP_MISSING', async (t) => {
  const root = await tempDir(t, 'missing');
  await assert.rejects(verifyBackup(join(root, 'alice-20260101T000000Z.tar.gz')), { code: 'OCM_E_BACKUP_MISSING' });
});

test('an archive without a trailing manifest, or with entries after it, is corrupt', async (t) => {
  const root = await tempDir(t, 'nomanifest');
  const plain = [{ header: { name: 'state', type: 'directory' as const } }, { header: { name: 'state/a', type: 'file' as const }, body: Buffer.from('a') }];
  await craftArchive(join(root, 'a.tar.gz'), plain, { manifest: false });
  await assertRefusedCleanly(join(root, 'a.tar.gz'), root, /no trailing manifest/);
  await craftArchive(join(root, 'b.tar.gz'), plain, { after: [{ header: { name: 'state/late', type: 'file' }, body: Buffer.from('x') }] });
  await assertRefusedCleanly(join(root, 'b.tar.gz'), root, /follows the manifest/);
});

test('a file whose content differs from the manifest is corrupt', async (t) => {
  const root = await tempDir(t, 'mismatch');
  const path = join(root, 'a.tar.gz');
  await craftArchive(path, [{ header: { name: 'state', type: 'directory' } }, { header: { name: 'state/a', type: 'file' }, body: Buffer.from('a') }]);
  // Same body, but a manifest that claims another sha256.
  const { manifest } = await verifyBackup(path);
  const entry = manifest.entries.find((e) => e.path === 'state/a');
  assert.ok(entry);
  entry.sha256 = '0'.repeat(64);
  await rm(path);
  await craftArchive(path, [{ header: { name: 'state', type: 'directory' } }, { header: { name: 'state/a', type: 'file' }, body: Buffer.from('a') }], {
    manifest: false,
    after: [{ header: { name: '.ocm-backup.json', type: 'file' }, body: Buffer.from(JSON.stringify(manifest)) }],
  });
  await assertRefusedCleanly(path, root, /does not match the manifest/);
});

test('restoring a corrupt archive never stops the container nor touches the state', async (t) => {
  const { root, archive, userDir } = await damaged(t, (p) => flipByte(p, (n) => n - 40), false);
  const before = await digestTree(userDir);
  const calls: string[] = [];
  const control: ContainerControl = {
    isRunning: async () => true,
    pause: async () => void calls.push('pause'),
    unpause: async () => void calls.push('unpause'),
    stop: async () => void calls.push('stop'),
    start: async () => void calls.push('start'),
  };
  await assert.rejects(
    restoreState({ archive, userDir, control, rotateToken: async () => { calls.push('rotate'); return async () => undefined; }, waitHealthy: async () => undefined, clock: fixedClock('2026-04-02T00:00:00Z') }),
    { code: 'OCM_E_BACKUP_CORRUPT' },
  );
  assert.deepEqual(calls, []);
  assert.deepEqual(await digestTree(userDir), before);
  assert.ok(root);
});
