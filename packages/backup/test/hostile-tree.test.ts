// The descriptor-based walk and copy against what a hostile tenant plants in
// its tree: symlinks out, a parent swapped for a link (once, and in a
// renameat2 RENAME_EXCHANGE loop), FIFOs, sockets, sparse files, huge trees,
// setuid bits and paths longer than PATH_MAX on the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { chmod, mkdir, open, readFile, rename, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBackup, extractBackup, noGuard, type ConsistencyGuard } from '../src/index.js';
import { copyOpened, isSparse } from '../src/file-copy.js';
import { precopy } from '../src/snapshot-copy.js';
import { openFileAt, openRoot } from '../src/tree-fs.js';
import { walkSources } from '../src/walk-tree.js';
import { fixedClock, tempDir } from './helpers.js';

const CANARY = `canary-${randomBytes(8).toString('hex')}`;

/** A root-only secret outside the tree, which a planted link points at. */
async function canaryDir(root: string, names: readonly string[]): Promise<string> {
  const dir = join(root, 'host-secret');
  await mkdir(dir, { mode: 0o700 });
  for (const n of names) await writeFile(join(dir, n), `${CANARY}\n`, { mode: 0o600 });
  return dir;
}

async function archiveText(archive: string): Promise<string> {
  const r = spawnSync('tar', ['-xzOf', archive], { maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout.toString('latin1');
}

const sources = (root: string) => [{ dir: join(root, 'state'), prefix: 'state' as const }];

test('a symlink leaf pointing at a host file is archived as a link (or left out), never followed', async (t) => {
  const root = await tempDir(t, 'leaf');
  const secret = await canaryDir(root, ['passwd']);
  await mkdir(join(root, 'state'));
  await symlink(join(secret, 'passwd'), join(root, 'state', 'abs'));
  await symlink('../host-secret/passwd', join(root, 'state', 'rel'));
  const r = await createBackup({ user: 'eve', sources: sources(root), destDir: join(root, 'b'), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: noGuard });
  assert.ok(!(await archiveText(r.archive)).includes(CANARY));
  assert.deepEqual(r.skipped.map((s) => s.path).sort(), ['state/abs', 'state/rel']);
});

test('a parent directory swapped for a link between the walk and the copy is skipped and reported', async (t) => {
  const root = await tempDir(t, 'swap');
  const secret = await canaryDir(root, ['secret']);
  await mkdir(join(root, 'state', 'd'), { recursive: true });
  await writeFile(join(root, 'state', 'd', 'secret'), 'mine\n');
  const walked = await walkSources(sources(root));
  // The swap a tenant makes while the unfrozen copy runs.
  await rename(join(root, 'state', 'd'), join(root, 'state', 'd-old'));
  await symlink(secret, join(root, 'state', 'd'));
  const snap = await precopy(walked, sources(root), join(root, 'snap'));
  assert.equal(snap.copied.size, 0, 'nothing was copied through the link');
  // A file swapped for another (same name, other inode) is refused too.
  const { handle } = await openRoot(join(root, 'state', 'd-old'));
  try {
    await writeFile(join(root, 'state', 'd-old', 'other'), 'x');
    const st = await stat(join(root, 'state', 'd-old', 'secret'));
    const other = await openFileAt(handle, 'other', { dev: st.dev, ino: st.ino });
    assert.ok('skip' in other, 'another inode under the same name is skipped');
  } finally {
    await handle.close();
  }
});

test('a renameat2 RENAME_EXCHANGE loop swapping directories and links never gets a host file archived', async (t) => {
  const root = await tempDir(t, 'race');
  const names = Array.from({ length: 40 }, (_, i) => `f${i}`);
  const secret = await canaryDir(root, names);
  const state = join(root, 'state');
  for (let p = 0; p < 4; p++) {
    await mkdir(join(state, `d${p}`), { recursive: true });
    for (const n of names) await writeFile(join(state, `d${p}`, n), 'tenant data\n');
    await symlink(secret, join(state, `l${p}`));
  }
  // Older than the snapshot's racy window, as a tenant would prepare it.
  await new Promise((r) => setTimeout(r, 2200));
  const pairs = [0, 1, 2, 3].flatMap((p) => [join(state, `d${p}`), join(state, `l${p}`)]);
  const script = 'my @p=@ARGV; my $n=0; my $end=time+60; while(time<$end){ for(my $i=0;$i<@p;$i+=2){ syscall(316,-100,$p[$i],-100,$p[$i+1],2)==0 or die "renameat2: $!"; $n++ } } print "$n\n";';
  const swapper = spawn('perl', ['-e', script, ...pairs], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => swapper.kill('SIGKILL'));
  let skippedSwaps = 0;
  for (let i = 0; i < 12; i++) {
    for (const strategy of ['snapshot', 'stream'] as const) {
      const r = await createBackup({ user: 'eve', sources: sources(root), destDir: join(root, `b${i}${strategy}`), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: noGuard, strategy });
      assert.ok(!(await archiveText(r.archive)).includes(CANARY), `archive ${i} (${strategy}) holds the host file`);
      skippedSwaps += r.skipped.filter((s) => /changed while|leaves the state tree/.test(s.reason)).length;
    }
  }
  swapper.kill('SIGTERM');
  t.diagnostic(`24 backups during the swap loop; ${skippedSwaps} swapped entries skipped and reported`);
  assert.ok(skippedSwaps > 0, 'the loop never hit a backup: the test proves nothing');
});

test('FIFOs and sockets are skipped and reported without blocking; a FIFO swapped in for a file is not opened blocking', async (t) => {
  const root = await tempDir(t, 'fifo');
  const state = join(root, 'state');
  await mkdir(state);
  for (let i = 0; i < 8; i++) assert.equal(spawnSync('mkfifo', [join(state, `fifo${i}`)]).status, 0);
  const server = createServer();
  server.listen(join(state, 'agent.socket'));
  await once(server, 'listening');
  t.after(() => server.close());
  await writeFile(join(state, 'real'), 'data');
  const r = await createBackup({ user: 'eve', sources: sources(root), destDir: join(root, 'b'), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: noGuard, strategy: 'snapshot' });
  assert.deepEqual(r.skipped.map((s) => s.path).sort(), ['state/agent.socket', ...Array.from({ length: 8 }, (_, i) => `state/fifo${i}`)]);
  assert.equal(r.files, 1);
  // The walk saw a file; then it became a FIFO with no writer.
  const { handle } = await openRoot(state);
  try {
    const opened = await openFileAt(handle, 'fifo0');
    assert.ok('skip' in opened && /fifo/.test(opened.skip));
  } finally {
    await handle.close();
  }
});

test('a sparse file is copied hole by hole: the snapshot allocates what the tenant allocated', async (t) => {
  const root = await tempDir(t, 'sparse');
  const path = join(root, 'big');
  await writeFile(path, '');
  await truncate(path, 2 * 1024 ** 3);
  const fd = await open(path, 'r+');
  await fd.write(Buffer.from('head'), 0, 4, 0);
  await fd.write(Buffer.from('middle'), 0, 6, 1024 ** 3);
  await fd.close();
  const src = await open(path, 'r');
  try {
    const st = await src.stat();
    assert.ok(isSparse(st));
    const bytes = await copyOpened(src, st, join(root, 'copy'));
    assert.equal(bytes, 2 * 1024 ** 3);
  } finally {
    await src.close();
  }
  const copy = await stat(join(root, 'copy'));
  assert.equal(copy.size, 2 * 1024 ** 3);
  assert.ok(copy.blocks * 512 < 16 * 1024 ** 2, `the copy allocated ${copy.blocks * 512} bytes`);
  const check = await open(join(root, 'copy'), 'r');
  const buf = Buffer.alloc(6);
  await check.read(buf, 0, 6, 1024 ** 3);
  await check.close();
  assert.equal(buf.toString(), 'middle');
});

test('limits on files and bytes are checked before anything is frozen, naming the user and the setting', async (t) => {
  const root = await tempDir(t, 'limits');
  const state = join(root, 'state');
  await mkdir(state);
  for (let i = 0; i < 120; i++) await writeFile(join(state, `f${i}`), '');
  await writeFile(join(state, 'sparse'), '');
  await truncate(join(state, 'sparse'), 10 * 1024 ** 3);
  const calls: string[] = [];
  const guard: ConsistencyGuard = { mode: 'pause', enter: async () => void calls.push('enter'), leave: async () => void calls.push('leave') };
  const base = { user: 'eve', sources: sources(root), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: guard };
  await assert.rejects(createBackup({ ...base, destDir: join(root, 'b1'), limits: { maxFiles: 100, maxBytes: 1024 ** 4 } }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'OCM_E_BACKUP_LIMIT');
    assert.match(e.message, /"eve".*100 files.*settings\.backup\.maxFiles/);
    return true;
  });
  await assert.rejects(createBackup({ ...base, destDir: join(root, 'b2'), limits: { maxFiles: 1000, maxBytes: 8 * 1024 ** 3 } }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'OCM_E_BACKUP_LIMIT');
    assert.match(e.message, /"eve".*settings\.backup\.maxBytes/);
    return true;
  });
  assert.deepEqual(calls, [], 'the container was never frozen');
});

test('a restore never brings back setuid or setgid bits', async (t) => {
  const root = await tempDir(t, 'suid');
  const state = join(root, 'state');
  await mkdir(join(state, 'sg'), { recursive: true });
  await writeFile(join(state, 'tool'), '#!/bin/sh\n');
  await chmod(join(state, 'tool'), 0o6755);
  await chmod(join(state, 'sg'), 0o2775);
  const r = await createBackup({ user: 'eve', sources: sources(root), destDir: join(root, 'b'), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: noGuard });
  await extractBackup(r.archive, join(root, 'out'));
  assert.equal((await stat(join(root, 'out', 'state', 'tool'))).mode & 0o7777, 0o755);
  assert.equal((await stat(join(root, 'out', 'state', 'sg'))).mode & 0o7777, 0o775);
});

test('a path longer than PATH_MAX on the host is backed up and restored', async (t) => {
  const root = await tempDir(t, 'deep');
  const state = join(root, 'state');
  await mkdir(state);
  // Node's recursive rm stops at PATH_MAX (tempDir's cleanup runs first); coreutils' rm walks by descriptors.
  const cleanup = (): void => void spawnSync('rm', ['-rf', state, join(root, 'out')]);
  try {
    await deepRoundTrip(root, state);
  } finally {
    cleanup();
  }
});

async function deepRoundTrip(root: string, state: string): Promise<void> {
  // 24 levels of 200-byte names: about 4,800 bytes, over PATH_MAX (4096).
  const name = 'n'.repeat(200);
  // perl's chdir is relative: the shell's cd would track $PWD and stop at PATH_MAX.
  const made = spawnSync('perl', ['-e', 'chdir $ARGV[0] or die; for (1..24) { mkdir $ARGV[1] or die "mkdir: $!"; chdir $ARGV[1] or die } open my $f, ">", "leaf" or die; print $f "deep\n"', state, name]);
  assert.equal(made.status, 0, String(made.stderr));
  const r = await createBackup({ user: 'eve', sources: sources(root), destDir: join(root, 'b'), clock: fixedClock('2026-03-01T03:00:00Z'), consistency: noGuard });
  assert.equal(r.files, 1);
  assert.deepEqual(r.skipped, []);
  await extractBackup(r.archive, join(root, 'out'));
  const read = spawnSync('perl', ['-e', 'chdir $ARGV[0] or die; for (1..24) { chdir $ARGV[1] or die } open my $f, "<", "leaf" or die; print <$f>', join(root, 'out', 'state'), name]);
  assert.equal(read.stdout.toString(), 'deep\n');
  assert.ok((await readFile(join(root, 'out', '.ocm-backup.json'), 'utf8')).includes('leaf'));
}
