// Backups through bin/ocm against real gateways that write their state
// continuously: consistent archives, verification, safe restore, kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, statSync, mkdirSync, chownSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { getDocker } from './support/docker.js';
import { httpJson } from './support/wait.js';
import { OCM_BIN, ocm, snapshot, tempDir } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();
const CHECK = new URL('./fixtures/gateway/openclaw.mjs', import.meta.url).pathname;

/**
 * Crash consistency, which is what SQLite's WAL needs from a copy: every
 * record complete and valid, and the -wal never ahead of the database nor
 * more than one write behind (the writer updates it a few ms after the
 * record). A snapshot of a frozen process always passes; files copied at
 * different moments can leave the -wal ahead and fail.
 */
interface StateCheck { ok: boolean; lastSeq: number; walSeq: number | null; message: string }

function crashConsistent(j: StateCheck): boolean {
  return j.ok || (/^inconsistent: wal seq/.test(j.message) && j.walSeq !== null && j.walSeq === j.lastSeq - 1);
}

function checkState(dir: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CHECK, 'check-state', dir, '--json'], { encoding: 'utf8' });
  const j = JSON.parse(r.stdout || r.stderr) as StateCheck;
  return { code: crashConsistent(j) ? 0 : 1, out: j.message };
}

test('pause-mode backups of a gateway writing every 5 ms are consistent; restore rotates the token', async (t) => {
  const { root, portBase, project } = await testRoot(t);
  // A fast writer and a lagging -wal make a torn copy likely if the freeze did not hold.
  assert.equal((await ocm(['add', 'alice', '--env', 'OCM_FIXTURE_STATE_INTERVAL_MS=5', '--env', 'OCM_FIXTURE_WAL_LAG_MS=3'], { root })).code, 0);
  const inspectDir = tempDir(t);
  // Each archive is checked as soon as it is made.
  for (let i = 0; i < 5; i++) {
    const r = await ocm(['backup', 'alice'], { root });
    assert.equal(r.code, 0, r.stderr);
    const m = /frozen (\d+) ms/.exec(r.stdout);
    assert.ok(m !== null, r.stdout);
    const [b] = JSON.parse((await ocm(['backups', 'alice', '--json', '--check'], { root })).stdout) as Array<{ archive: string; verified: boolean }>;
    assert.equal(b?.verified, true);
    assert.equal(statSync(b?.archive).mode & 0o777, 0o600);
    const dest = `${inspectDir}/${i}`;
    const x = await ocm(['restore', 'alice', '--to', dest], { root });
    assert.equal(x.code, 0, x.stderr);
    const check = checkState(`${dest}/state`);
    assert.equal(check.code, 0, `archive ${b?.archive}: ${check.out}`);
    await new Promise((res) => setTimeout(res, 1100)); // distinct second-resolution names
  }

  // The check has teeth: reading the live files the way an unfrozen archiver
  // does (the database, then a little later the -wal) tears them.
  let torn = 0;
  for (let i = 0; i < 20 && torn === 0; i++) {
    const dest = `${inspectDir}/live-${i}/state`;
    mkdirSync(dest, { recursive: true });
    writeFileSync(`${dest}/openclaw.sqlite`, readFileSync(`${root}/users/alice/state/state/openclaw.sqlite`));
    await new Promise((res) => setTimeout(res, 25));
    writeFileSync(`${dest}/openclaw.sqlite-wal`, readFileSync(`${root}/users/alice/state/state/openclaw.sqlite-wal`));
    if (checkState(dest).code !== 0) torn++;
  }
  assert.ok(torn > 0, 'a live copy was never detected as torn: the check proves nothing');

  // Restore: verified, swapped, token rotated, healthy again.
  const before = (await ocm(['token', 'alice'], { root })).stdout.trim();
  const r = await ocm(['restore', 'alice', '--yes'], { root });
  assert.equal(r.code, 0, r.stderr);
  const after = (await ocm(['token', 'alice'], { root })).stdout.trim();
  assert.notEqual(after, before, 'token rotated on restore');
  assert.equal((await httpJson(`http://127.0.0.1:${portBase}/api/whoami`, { headers: { authorization: `Bearer ${before}` } })).status, 401);
  assert.equal((await httpJson(`http://127.0.0.1:${portBase}/api/whoami`, { headers: { authorization: `Bearer ${after}` } })).status, 200);
  assert.equal((await docker.getContainer(`${project}-alice`).inspect()).State.Running, true);
  // The gateway checked the restored state when it started.
  const state = await httpJson<{ startCheck: StateCheck }>(`http://127.0.0.1:${portBase}/api/state`);
  assert.ok(state.json !== undefined && crashConsistent(state.json.startCheck), JSON.stringify(state.json));
  assert.ok((state.json?.startCheck.lastSeq ?? 0) > 0, 'restored records present');
  assert.ok(!readdirSync(`${root}/users/alice`).some((e) => e.startsWith('state.before-restore')), 'aside copy removed once healthy');
});

test('stop mode and a stopped user: reported downtime, and a stopped gateway stays stopped', async (t) => {
  const { root, project } = await testRoot(t);
  assert.equal((await ocm(['add', 'bob'], { root })).code, 0);
  writeFileSync(`${root}/ocm.yaml`, readFileSync(`${root}/ocm.yaml`, 'utf8').replace('consistency: pause', 'consistency: stop'));
  let r = await ocm(['backup', 'bob'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /down \d+ ms/);
  assert.equal((await docker.getContainer(`${project}-bob`).inspect()).State.Running, true, 'started again after the copy');
  assert.equal((await ocm(['stop', 'bob'], { root })).code, 0);
  r = await ocm(['backup', 'bob'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /down 0 ms/);
  assert.equal((await docker.getContainer(`${project}-bob`).inspect()).State.Running, false, 'not started for the backup');
});

test('a corrupted archive is refused by verify and restore, and nothing changes', async (t) => {
  const { root } = await testRoot(t);
  assert.equal((await ocm(['add', 'carol'], { root })).code, 0);
  assert.equal((await ocm(['backup', 'carol'], { root })).code, 0);
  const [b] = JSON.parse((await ocm(['backups', 'carol', '--json'], { root })).stdout) as Array<{ archive: string }>;
  const archive = b?.archive as string;
  const bytes = readFileSync(archive);
  const mid = Math.floor(bytes.length / 2);
  bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
  writeFileSync(archive, bytes);
  let r = await ocm(['backup', 'verify', 'carol'], { root });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^BAD /m);
  await ocm(['stop', 'carol'], { root }); // hold the state still so the snapshot compares
  const before = snapshot(`${root}/users/carol`);
  r = await ocm(['restore', 'carol', '--yes'], { root });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: .*(checksum|corrupt|sha256)/im);
  assert.deepEqual(snapshot(`${root}/users/carol`), before, 'state untouched');
});

test('kill -9 of `ocm backup` at random moments never leaves an archive that is listed or restorable', async (t) => {
  const { root } = await testRoot(t);
  assert.equal((await ocm(['add', 'dave', '--no-start'], { root })).code, 0);
  // ~60 MB of state so a backup takes long enough to be interrupted mid-write.
  const big = `${root}/users/dave/state/blobs`;
  mkdirSync(big, { recursive: true });
  for (let i = 0; i < 6; i++) writeFileSync(`${big}/blob-${i}.bin`, randomBytes(10 * 1024 * 1024));
  if (process.getuid?.() === 0) chownSync(big, 1000, 1000);
  let killed = 0;
  for (let trial = 0; trial < 12; trial++) {
    const child = spawn(process.execPath, [OCM_BIN, '--root', root, 'backup', 'dave'], { stdio: 'ignore' });
    const delay = 50 + Math.floor(Math.random() * 1500);
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const timer = setTimeout(() => { if (child.exitCode === null) { child.kill('SIGKILL'); killed++; } }, delay);
    await exited;
    clearTimeout(timer);
    await new Promise((res) => setTimeout(res, 1000)); // distinct archive names
  }
  assert.ok(killed >= 4, `only ${killed} of 12 runs were killed mid-backup`);
  const listed = JSON.parse((await ocm(['backups', 'dave', '--json', '--check'], { root })).stdout) as Array<{ archive: string; verified: boolean }>;
  for (const b of listed) {
    assert.equal(b.verified, true, `listed archive ${b.archive} does not verify`);
    assert.equal((await ocm(['backup', 'verify', b.archive], { root })).code, 0);
  }
  // A clean run afterwards succeeds and cleans up stale partial files.
  assert.equal((await ocm(['backup', 'dave'], { root })).code, 0);
  const leftovers = readdirSync(`${root}/backups/dave`).filter((f) => f.includes('partial') || f.startsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});
