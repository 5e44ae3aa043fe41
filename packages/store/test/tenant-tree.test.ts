// The no-follow handles root uses inside tenant trees: links, FIFOs, sockets,
// devices, hard links, oversized files and a swapping racer are refused or
// replaced, never followed, opened for blocking reads or written through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { openDirUnder, readRegularFile, removeTreeIn, replaceFile, mergeUserConfig, purgeUserTree } from '@ocm/store';

function temp(t: TestContext): string {
  const dir = mkdtempSync(`${tmpdir()}/ocm-tt-`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A canary outside the tree: content, mode and owner must stay. */
function canary(t: TestContext): { dir: string; file: string; check(): void } {
  const dir = temp(t);
  const file = `${dir}/host.json`;
  writeFileSync(file, '{"host":true}\n', { mode: 0o640 });
  chmodSync(file, 0o640);
  const before = statSync(file);
  return {
    dir, file,
    check() {
      const after = statSync(file);
      assert.equal(readFileSync(file, 'utf8'), '{"host":true}\n');
      assert.equal(after.mode, before.mode);
      assert.equal(after.uid, before.uid);
      assert.equal(after.ino, before.ino);
      assert.ok(existsSync(`${dir}`));
    },
  };
}

function userTree(t: TestContext): string {
  const root = temp(t);
  mkdirSync(`${root}/users/eve/state`, { recursive: true });
  return root;
}

const keys = { allowedOrigins: ['https://eve.example.test'], trustedProxies: ['10.250.0.1'] };

test('a plain file is read and replaced whole, by handle', async (t) => {
  const root = userTree(t);
  writeFileSync(`${root}/users/eve/state/openclaw.json`, '{"agents":{}}');
  assert.deepEqual(await mergeUserConfig(root, 'eve', keys), { kind: 'updated' });
  const doc = JSON.parse(readFileSync(`${root}/users/eve/state/openclaw.json`, 'utf8')) as { agents: object; gateway: { trustedProxies: string[] } };
  assert.deepEqual(doc.agents, {});
  assert.deepEqual(doc.gateway.trustedProxies, ['10.250.0.1']);
  assert.equal(statSync(`${root}/users/eve/state/openclaw.json`).mode & 0o777, 0o600);
  assert.deepEqual(await mergeUserConfig(root, 'eve', keys), { kind: 'unchanged' });
});

test('a symlinked openclaw.json is skipped, its target untouched', async (t) => {
  const root = userTree(t);
  const host = canary(t);
  symlinkSync(host.file, `${root}/users/eve/state/openclaw.json`);
  const result = await mergeUserConfig(root, 'eve', keys);
  assert.deepEqual(result, { kind: 'skipped', reason: 'is a symbolic link' });
  host.check();
  assert.ok(lstatSync(`${root}/users/eve/state/openclaw.json`).isSymbolicLink());
});

test('a symlink to /dev/zero is refused without reading it', async (t) => {
  const root = userTree(t);
  symlinkSync('/dev/zero', `${root}/users/eve/state/openclaw.json`);
  assert.equal((await mergeUserConfig(root, 'eve', keys)).kind, 'skipped');
});

test('a symlinked parent directory is refused at the step that is a link', async (t) => {
  const root = temp(t);
  const host = canary(t);
  mkdirSync(`${root}/users/eve`, { recursive: true });
  symlinkSync(host.dir, `${root}/users/eve/state`);
  await assert.rejects(openDirUnder(root, ['users', 'eve', 'state']), { code: /^(ELOOP|ENOTDIR)$/ });
  const result = await mergeUserConfig(root, 'eve', keys);
  assert.equal(result.kind, 'skipped');
  host.check();
  assert.equal(existsSync(`${host.dir}/openclaw.json`), false);
});

test('a FIFO is refused at once, with or without a writer', async (t) => {
  const root = userTree(t);
  assert.equal(spawnSync('mkfifo', [`${root}/users/eve/state/openclaw.json`]).status, 0);
  const result = await mergeUserConfig(root, 'eve', keys);
  assert.deepEqual(result, { kind: 'skipped', reason: 'is a FIFO' });
});

test('a socket is refused', async (t) => {
  const root = userTree(t);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(`${root}/users/eve/state/openclaw.json`, resolve));
  t.after(() => server.close());
  const result = await mergeUserConfig(root, 'eve', keys);
  assert.equal(result.kind, 'skipped');
  assert.match((result as { reason: string }).reason, /socket/);
});

test('a directory, a hard link and an oversized file are refused', async (t) => {
  const root = userTree(t);
  const dir = await openDirUnder(root, ['users', 'eve', 'state']);
  t.after(() => dir.close());
  mkdirSync(`${root}/users/eve/state/d`);
  assert.deepEqual(await readRegularFile(dir, 'd', 100), { kind: 'refused', reason: 'is a directory' });
  writeFileSync(`${root}/users/eve/state/a`, '{}');
  linkSync(`${root}/users/eve/state/a`, `${root}/users/eve/state/b`);
  assert.deepEqual(await readRegularFile(dir, 'a', 100), { kind: 'refused', reason: 'has 2 hard links' });
  writeFileSync(`${root}/users/eve/state/big`, 'x'.repeat(101));
  assert.equal((await readRegularFile(dir, 'big', 100)).kind, 'refused');
  assert.equal((await readRegularFile(dir, 'missing', 100)).kind, 'absent');
  // A sparse file claims its size without using disk: refused before a byte is read.
  assert.equal(spawnSync('truncate', ['-s', '10G', `${root}/users/eve/state/openclaw.json`]).status, 0);
  assert.match(((await mergeUserConfig(root, 'eve', keys)) as { reason: string }).reason, /over the 1048576-byte limit/);
});

test('replaceFile swaps a link at the name for a file, never writes through it', async (t) => {
  const root = userTree(t);
  const host = canary(t);
  const dir = await openDirUnder(root, ['users', 'eve', 'state']);
  t.after(() => dir.close());
  symlinkSync(host.file, `${root}/users/eve/state/x.json`);
  await replaceFile(dir, 'x.json', '{}\n', 0o600);
  assert.ok(lstatSync(`${root}/users/eve/state/x.json`).isFile());
  host.check();
});

/**
 * A racer that swaps openclaw.json between a regular file and a symlink to the
 * canary with renameat2(RENAME_EXCHANGE), as a tenant would, for `seconds`.
 * A merge that lands while the link is at the name replaces it with a file,
 * which would end the race, so the racer puts a fresh link back.
 */
function swapper(dir: string, target: string, seconds: number): ReturnType<typeof spawn> {
  const script = `
    chdir $ARGV[0] or die; symlink($ARGV[1], "l") or die; open(F, ">f"); print F "{}"; close F;
    rename("f", "openclaw.json");
    my ($a, $b) = ("openclaw.json", "l"); my $end = time + $ARGV[2]; my $n = 0;
    while (time < $end) {
      syscall(316, -100, $a, -100, $b, 2) == 0 or die "renameat2: $!"; $n++;
      # A merge that replaced the link with a file ends the race; set it again.
      unless (-l $a || -l $b) { unlink $b; symlink($ARGV[1], $b) or die "symlink: $!" }
    }
    print "$n\\n";`;
  return spawn('perl', ['-e', script, dir, target, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
}

test('a racer swapping file and symlink never gets root to write the target', async (t) => {
  const root = userTree(t);
  const host = canary(t);
  const racer = swapper(`${root}/users/eve/state`, host.file, 3);
  let swaps = '';
  racer.stdout?.on('data', (d: Buffer) => { swaps += d.toString(); });
  const exited = new Promise((resolve) => racer.on('exit', resolve));
  t.after(() => racer.kill('SIGKILL'));
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 2000 && racer.exitCode === null; i++) {
    const result = await mergeUserConfig(root, 'eve', keys);
    outcomes.set(result.kind, (outcomes.get(result.kind) ?? 0) + 1);
    host.check();
  }
  await exited;
  t.diagnostic(`racer swaps: ${swaps.trim()}; merges: ${JSON.stringify([...outcomes])}`);
  assert.ok(Number(swaps) > 1000, `the racer swapped ${swaps} times`);
  assert.ok((outcomes.get('skipped') ?? 0) > 0, `some merges saw the link: ${JSON.stringify([...outcomes])}`);
  host.check();
});

test('removeTreeIn deletes a tree with links out and a FIFO, leaving the targets', async (t) => {
  const root = userTree(t);
  const host = canary(t);
  const state = `${root}/users/eve/state`;
  symlinkSync(host.dir, `${state}/out`);
  symlinkSync(host.file, `${state}/out.json`);
  mkdirSync(`${state}/sub/sub`, { recursive: true });
  symlinkSync(host.dir, `${state}/sub/sub/out`);
  assert.equal(spawnSync('mkfifo', [`${state}/fifo`]).status, 0);
  const users = await openDirUnder(root, ['users']);
  t.after(() => users.close());
  await removeTreeIn(users, 'eve');
  assert.equal(existsSync(`${root}/users/eve`), false);
  host.check();
});

test('a path too long for the host is still purged', async (t) => {
  const root = userTree(t);
  const host = canary(t);
  // Build 30 levels of 250-byte names (7.5 KB, over PATH_MAX) with relative mkdirs.
  const r = spawnSync('perl', ['-e', 'chdir $ARGV[0] or die; for (1..30) { mkdir "x" x 250 or die; chdir "x" x 250 or die } open(F, ">leaf"); close F;', `${root}/users/eve/state`]);
  assert.equal(r.status, 0, r.stderr.toString());
  const result = await purgeUserTree(root, 'eve', 'now');
  assert.equal(result.trashed, '.trash/eve-now');
  assert.equal(existsSync(`${root}/users/eve`), false);
  assert.equal(existsSync(`${root}/.trash/eve-now`), false);
  assert.equal(statSync(`${root}/.trash`).mode & 0o777, 0o700);
  host.check();
});
