// Restore swaps the trees only when everything worked and puts the previous
// state back when the gateway does not come up healthy.
import assert from 'node:assert/strict';
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createBackup, extractBackup, noGuard, restoreState, restoreTo, type ContainerControl } from '../src/index.js';
import { buildUserTree, digestTree, fixedClock, isRoot, names, tempDir } from './helpers.js';

async function setup(t: TestContext): Promise<{ userDir: string; archive: string; original: Awaited<ReturnType<typeof digestTree>>; root: string }> {
  const root = await tempDir(t, 'restore');
  const userDir = join(root, 'users', 'alice');
  await buildUserTree(userDir, { smallFiles: 20 });
  const original = await digestTree(userDir);
  const { archive } = await createBackup({
    user: 'alice',
    sources: [{ dir: join(userDir, 'state'), prefix: 'state' }, { dir: join(userDir, 'config'), prefix: 'config' }],
    destDir: join(root, 'backups', 'alice'),
    clock: fixedClock('2026-06-01T03:00:00Z'),
    consistency: noGuard,
  });
  // Life goes on after the backup.
  await writeFile(join(userDir, 'state', 'openclaw.json'), '{ changed: true }\n');
  await writeFile(join(userDir, 'state', 'new-after-backup.txt'), 'new\n');
  await rm(join(userDir, 'state', 'run.sh'));
  return { userDir, archive, original, root };
}

function control(calls: string[]): ContainerControl {
  let running = true;
  return {
    isRunning: async () => running,
    pause: async () => void calls.push('pause'),
    unpause: async () => void calls.push('unpause'),
    stop: async () => {
      calls.push('stop');
      running = false;
    },
    start: async () => {
      calls.push('start');
      running = true;
    },
  };
}

test('restoreState swaps in the archived trees, rotates the token and drops the old trees after health', async (t) => {
  const { userDir, archive, original } = await setup(t);
  const calls: string[] = [];
  const result = await restoreState({
    archive,
    userDir,
    control: control(calls),
    rotateToken: async () => {
      calls.push('rotate');
      return async () => void calls.push('token back');
    },
    waitHealthy: async () => void calls.push('healthy'),
    clock: fixedClock('2026-06-02T10:00:00Z'),
  });
  assert.deepEqual(calls, ['stop', 'rotate', 'start', 'healthy']);
  assert.ok(result.downtimeMs >= 0 && result.downtimeMs <= result.durationMs, 'downtime measured within the restore');
  assert.deepEqual(result.restored, ['state', 'config']);
  assert.deepEqual(await digestTree(userDir), original);
  assert.deepEqual(await names(userDir), ['config', 'state']);
});

for (const failing of ['rotate', 'healthy'] as const) {
  test(`a failure to ${failing} puts the previous state back and says so`, async (t) => {
    const { userDir, archive } = await setup(t);
    const before = await digestTree(userDir);
    const calls: string[] = [];
    const fail = (step: string) => async (): Promise<void> => {
      calls.push(step);
      if (step === failing) throw new Error(`${step} broke`);
    };
    const rotateToken = async () => {
      await fail('rotate')();
      return async () => void calls.push('token back');
    };
    await assert.rejects(
      restoreState({ archive, userDir, control: control(calls), rotateToken, waitHealthy: fail('healthy'), clock: fixedClock('2026-06-02T10:00:00Z') }),
      (e: Error & { code?: string }) => e.code === 'OCM_E_RESTORE_FAILED' && e.message.includes(`${failing} broke`) && e.message.includes('previous state was put back'),
    );
    assert.deepEqual(await digestTree(userDir), before, 'previous state in place, byte for byte');
    assert.deepEqual(await names(userDir), ['config', 'state'], 'no temp or before-restore dirs left');
    assert.equal(calls.at(-1), 'start', 'the container runs again on the previous state');
    // A token that was rotated goes back with the previous state, before the start.
    assert.equal(calls.includes('token back'), failing === 'healthy');
  });
}

test('restoreTo extracts for inspection and refuses a non-empty directory', async (t) => {
  const { archive, original, root } = await setup(t);
  const dest = join(root, 'inspect');
  await restoreTo(archive, dest);
  const got = await digestTree(dest);
  assert.ok(got.has('.ocm-backup.json'));
  got.delete('.ocm-backup.json');
  assert.deepEqual(got, original);
  const busy = join(root, 'busy');
  await mkdir(busy);
  await writeFile(join(busy, 'keep.txt'), 'mine');
  await assert.rejects(restoreTo(archive, busy), { code: 'OCM_E_RESTORE_FAILED' });
  assert.deepEqual(await names(busy), ['keep.txt']);
});

test('expectOwner hands the restored tree to the gateway user when running as root', { skip: !isRoot && 'needs root' }, async (t) => {
  const { archive, root } = await setup(t);
  const dest = join(root, 'owned');
  await extractBackup(archive, dest, { expectOwner: { uid: 1000, gid: 1000 } });
  for (const [path] of await digestTree(dest)) {
    if (path === '.ocm-backup.json') continue;
    const st = await lstat(join(dest, path));
    assert.deepEqual([st.uid, st.gid], [1000, 1000], path);
  }
});
