// Listing, second copies, retention on disk and the whole nightly job for one
// user: what counts as a backup, and that old backups only go after a new one.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import {
  applyRetention,
  backupUser,
  copyBackup,
  createBackup,
  listBackups,
  noGuard,
  verifyBackup,
  type ContainerControl,
} from '../src/index.js';
import { buildUserTree, fixedClock, names, tempDir } from './helpers.js';

const stopped: ContainerControl = {
  isRunning: async () => false,
  pause: async () => assert.fail('a stopped container is not paused'),
  unpause: async () => assert.fail('a stopped container is not unpaused'),
  stop: async () => undefined,
  start: async () => assert.fail('a stopped container is not started by a backup'),
};

test('listBackups lists only complete archives and can re-check them', async (t) => {
  const root = await tempDir(t, 'list');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir);
  const backups = join(root, 'backups');
  const made = [];
  for (const day of ['01', '02', '03']) {
    made.push(await createBackup({ user: 'alice', sources: [{ dir: join(userDir, 'state'), prefix: 'state' }], destDir: join(backups, 'alice'), clock: fixedClock(`2026-07-${day}T03:00:00Z`), consistency: noGuard }));
  }
  const dir = join(backups, 'alice');
  // Leftovers a crash could produce: a partial, an archive without sidecar, a sidecar without archive.
  await writeFile(join(dir, '.tmp-alice-20260704T030000Z-99999999.tar.gz.partial'), 'partial');
  await writeFile(join(dir, 'alice-20260705T030000Z.tar.gz'), 'no sidecar');
  await writeFile(join(dir, 'alice-20260706T030000Z.tar.gz.sha256'), `${'0'.repeat(64)}  alice-20260706T030000Z.tar.gz\n`);
  // A bit flip in the oldest one.
  const oldest = made[0]?.archive as string;
  const bytes = await readFile(oldest);
  bytes[100] = (bytes[100] as number) ^ 1;
  await writeFile(oldest, bytes);

  const listed = await listBackups(backups);
  assert.deepEqual(listed.map((b) => b.archive), [made[2]?.archive, made[1]?.archive, made[0]?.archive]);
  assert.deepEqual(listed.map((b) => b.verified), [null, null, null]);
  assert.deepEqual(listed[0]?.time, new Date('2026-07-03T03:00:00Z'));
  assert.equal(listed[0]?.bytes, (await stat(made[2]?.archive as string)).size);
  const checked = await listBackups(backups, 'alice', { check: true });
  assert.deepEqual(checked.map((b) => b.verified), [true, true, false]);
  // The check is recorded: a plain listing shows it without re-reading.
  assert.deepEqual((await listBackups(backups, 'alice')).map((b) => [b.verified, b.lastVerify?.ok, b.lastVerify?.check, b.lastVerify?.reason]), [
    [null, true, 'checksum', undefined], [null, true, 'checksum', undefined], [null, false, 'checksum', 'checksum mismatch'],
  ]);
  // A verify result whose archive is gone (a prune raced a verify).
  await writeFile(join(dir, 'alice-20260706T030000Z.tar.gz.verify.json'), '{}');
  assert.deepEqual(await listBackups(backups, 'bob'), []);
  assert.deepEqual(await listBackups(join(root, 'nowhere')), []);

  // The next run removes temp files of dead writers and orphan sidecars, adopts
  // a complete archive that lost its sidecar, and leaves unknown files alone.
  await rm(`${made[1]?.archive}.sha256`);
  assert.equal((await listBackups(backups, 'alice')).length, 2);
  await createBackup({ user: 'alice', sources: [{ dir: join(userDir, 'state'), prefix: 'state' }], destDir: dir, clock: fixedClock('2026-07-07T03:00:00Z'), consistency: noGuard });
  assert.deepEqual(await names(dir), [
    'alice-20260701T030000Z.tar.gz',
    'alice-20260701T030000Z.tar.gz.sha256',
    'alice-20260701T030000Z.tar.gz.verify.json',
    'alice-20260702T030000Z.tar.gz',
    'alice-20260702T030000Z.tar.gz.sha256',
    'alice-20260702T030000Z.tar.gz.verify.json',
    'alice-20260703T030000Z.tar.gz',
    'alice-20260703T030000Z.tar.gz.sha256',
    'alice-20260703T030000Z.tar.gz.verify.json',
    'alice-20260705T030000Z.tar.gz',
    'alice-20260707T030000Z.tar.gz',
    'alice-20260707T030000Z.tar.gz.sha256',
  ]);
  assert.equal((await listBackups(backups, 'alice')).length, 4);
});

test('copyBackup writes a verified copy with its sidecar and refuses an archive that does not match', async (t) => {
  const root = await tempDir(t, 'copy');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir, { bigFileBytes: 1 << 20 });
  const r = await createBackup({ user: 'alice', sources: [{ dir: join(userDir, 'state'), prefix: 'state' }], destDir: join(root, 'backups', 'alice'), clock: fixedClock('2026-07-01T03:00:00Z'), consistency: noGuard });
  const copy = await copyBackup(r.archive, join(root, 'offsite', 'alice'));
  assert.equal(copy.sha256, r.sha256);
  assert.equal((await stat(copy.archive)).mode & 0o777, 0o600);
  await verifyBackup(copy.archive);

  // A rename that fails after the sidecar was written takes the sidecar back.
  const blocked = join(root, 'offsite3');
  await mkdir(join(blocked, basename(r.archive), 'in-the-way'), { recursive: true });
  await assert.rejects(copyBackup(r.archive, blocked), { code: 'OCM_E_BACKUP_FAILED' });
  assert.deepEqual(await names(blocked), [basename(r.archive)], 'no sidecar for an archive that is not there');

  const bytes = await readFile(r.archive);
  bytes[200] = (bytes[200] as number) ^ 1;
  await writeFile(r.archive, bytes);
  await assert.rejects(copyBackup(r.archive, join(root, 'offsite2')), { code: 'OCM_E_BACKUP_FAILED' });
  assert.deepEqual(await names(join(root, 'offsite2')), [], 'no partial copy left');
});

test('applyRetention prunes only after a complete new backup and keeps it', async (t) => {
  const root = await tempDir(t, 'retention');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir);
  const backups = join(root, 'backups');
  const made = [];
  for (let day = 1; day <= 10; day += 1) {
    made.push(await createBackup({ user: 'alice', sources: [{ dir: join(userDir, 'state'), prefix: 'state' }], destDir: join(backups, 'alice'), clock: fixedClock(new Date(Date.UTC(2026, 7, day, 3)).toISOString()), consistency: noGuard }));
  }
  const newest = made.at(-1)?.archive as string;
  await assert.rejects(
    applyRetention({ backupsDir: backups, user: 'alice', newArchive: join(backups, 'alice', 'alice-20260811T030000Z.tar.gz'), now: new Date('2026-08-11T04:00:00Z') }),
    { code: 'OCM_E_BACKUP_FAILED' },
  );
  assert.equal((await listBackups(backups, 'alice')).length, 10, 'a failed run prunes nothing');
  await listBackups(backups, 'alice', { check: true }); // each archive gets a verify result beside it
  const outcome = await applyRetention({ backupsDir: backups, user: 'alice', newArchive: newest, now: new Date('2026-08-10T04:00:00Z'), policy: { keepDaily: 3, keepWeekly: 1 } });
  // Days 10, 9, 8 (Mon 10 is W33, Sat 8 and Sun 9 are W32); weekly: newest of W31 = Sun Aug 2.
  assert.deepEqual(outcome.kept.map((b) => b.time.toISOString().slice(5, 10)), ['08-10', '08-09', '08-08', '08-02']);
  assert.equal(outcome.pruned.length, 6);
  const left = await names(join(backups, 'alice'));
  assert.equal(left.length, 12, `archives, sidecars and verify results of the kept ones only: ${left.join(' ')}`);
});

test('backupUser archives, verifies, copies and prunes; a stopped container is not started', async (t) => {
  const root = await tempDir(t, 'user-job');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir);
  const clock = fixedClock('2026-09-01T03:00:00Z');
  const opts = { user: 'alice', userDir, backupsDir: join(root, 'backups'), control: stopped, clock, copyTo: join(root, 'offsite'), retention: { keepDaily: 1, keepWeekly: 0 } };
  const first = await backupUser(opts);
  assert.equal(first.frozenMs >= 0, true);
  assert.ok(first.copy);
  clock.set('2026-09-02T03:00:00Z');
  const second = await backupUser(opts);
  assert.deepEqual(second.pruned, [first.archive]);
  assert.deepEqual((await listBackups(join(root, 'backups'))).map((b) => b.archive), [second.archive]);
  assert.equal((await listBackups(join(root, 'offsite'))).length, 2, 'the second copy is not pruned by the primary retention');
});
