// Root ocm never resolves a name inside a tenant tree by path: each admin
// command runs under `strace -f -y` against a root where eve's trees are full
// of links to a host canary, a FIFO and a link to /dev/zero, and every file
// syscall of ocm's processes (threads, and children such as rm) whose target
// lies inside users/<name>/<tree> must be one of the no-follow forms
// (test/support/strace-audit.ts). The canary must keep its content, mode and
// owner after every command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ocm, snapshot, tempDir } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { archiveBytes } from './support.js';
import { STRACE_ARGS, auditTrace, blindSpots, describe, tenantTrees, type AuditReport, type SafeForm } from '../support/strace-audit.js';

const TENANT = { uid: 1000, gid: 1000 };

/** Makes `path` the tenant's, without following it if it is a link. */
const tenantOwns = (...paths: string[]): void => paths.forEach((p) => lchownSync(p, TENANT.uid, TENANT.gid));

test('root ocm never follows a link inside a tenant tree (strace of set, render, up, token, doctor, backup, restore, purge)', { timeout: 900_000 }, async (t) => {
  const { root: given } = await testRoot(t);
  const traces = tempDir(t, 'ocm-strace-');
  let r = await ocm(['add', 'alice', '--no-start'], { root: given });
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'eve', '--no-start'], { root: given });
  assert.equal(r.code, 0, r.stderr);
  const root = realpathSync(given);
  const inTree = tenantTrees(root);

  // Host files the tenant aims root at: a 0640 file and a directory of files, outside the root.
  const canary = tempDir(t, 'ocm-canary-');
  mkdirSync(`${canary}/keep/deeper`, { recursive: true });
  writeFileSync(`${canary}/host.json`, '{"host":true}\n');
  chmodSync(`${canary}/host.json`, 0o640);
  for (let i = 0; i < 5; i++) writeFileSync(`${canary}/keep/f${i}`, `precious ${i}\n`);
  writeFileSync(`${canary}/keep/deeper/g`, 'deeper\n');
  const canaryBefore = snapshot(canary);
  const canaryHolds = (after: string): void => assert.deepEqual(snapshot(canary), canaryBefore, `the canary outside the root changed after ${after}`);

  // eve's trees, as her gateway (uid 1000) could leave them.
  const state = `${root}/users/eve/state`;
  const config = `${root}/users/eve/config`;
  rmSync(`${state}/openclaw.json`, { force: true }); // add wrote a real one
  symlinkSync(`${canary}/host.json`, `${state}/openclaw.json`);
  symlinkSync(`${canary}/keep`, `${state}/media`); // a directory swapped for a link
  mkdirSync(`${state}/agents/main`, { recursive: true });
  writeFileSync(`${state}/agents/main/notes.md`, 'mine\n');
  symlinkSync(`${canary}/keep`, `${state}/agents/main/sessions`); // the same, two levels down
  symlinkSync('../../../..', `${state}/agents/up`); // a relative way out
  symlinkSync('/dev/zero', `${state}/zero`);
  assert.equal(spawnSync('mkfifo', ['-m', '0600', `${state}/pipe`]).status, 0);
  symlinkSync(`${canary}/keep`, `${config}/extensions`);
  assert.equal(spawnSync('mkfifo', ['-m', '0600', `${config}/pipe`]).status, 0);
  tenantOwns(`${state}/openclaw.json`, `${state}/media`, `${state}/agents`, `${state}/agents/main`, `${state}/agents/main/notes.md`,
    `${state}/agents/main/sessions`, `${state}/agents/up`, `${state}/zero`, `${state}/pipe`, `${config}/extensions`, `${config}/pipe`);

  const totals: Record<SafeForm, number> = { handle: 0, 'proc-fd': 0, dirfd: 0, 'top-level-nofollow': 0 };
  const programs = new Set<string>();
  let counted = 0;
  let step = 0;
  let unsafe = 0;
  /** Runs `ocm args` under strace; `anyExit` for commands whose exit code reports findings (doctor). */
  const traced = async (args: string[], anyExit = false): Promise<AuditReport> => {
    const file = `${traces}/${++step}-${args[0]}.trace`;
    const run = await ocm(args, { root: given, prefix: ['strace', ...STRACE_ARGS, '-o', file] });
    if (!anyExit) assert.equal(run.code, 0, `ocm ${args.join(' ')}: ${run.stderr}`);
    const text = readFileSync(file, 'utf8');
    const report = auditTrace(text, { inTree, cwd: process.cwd() });
    for (const [form, n] of Object.entries(report.counts)) totals[form as SafeForm] += n;
    for (const p of report.programs) programs.add(p.replace(/.*\//, ''));
    counted += report.accesses.length;
    unsafe += report.unsafe.length;
    t.diagnostic(`ocm ${args.join(' ')}: ${report.accesses.length} calls inside tenant trees ${JSON.stringify(report.counts)}, ${report.unsafe.length} unsafe; ran ${[...new Set(report.programs.map((p) => p.replace(/.*\//, '')))].join(', ')}`);
    // OCM_AUDIT_DUMP=1 lists every judged call, to read what each form covers.
    if (process.env.OCM_AUDIT_DUMP) for (const a of report.accesses) t.diagnostic(`${a.form ?? 'UNSAFE'} ${a.call.line}`);
    assert.deepEqual(blindSpots(text, root, report), [], `ocm ${args.join(' ')}: tenant paths in calls the audit did not judge`);
    assert.deepEqual(report.unsafe.map((a) => a.call.line), [], `ocm ${args.join(' ')} resolved a tenant name by path:\n${describe(report)}`);
    assert.deepEqual(report.unresolved.map((c) => c.line), [], `ocm ${args.join(' ')}: a descriptor the trace cannot place:\n${describe(report)}`);
    canaryHolds(`ocm ${args.join(' ')}`);
    return report;
  };

  await t.test('the audit sees a plain read of a tenant file (node -e readFileSync under the same strace)', () => {
    const file = `${traces}/0-self-check.trace`;
    const run = spawnSync('strace', [...STRACE_ARGS, '-o', file, process.execPath, '-e', `require('node:fs').readFileSync(${JSON.stringify(`${state}/openclaw.json`)})`]);
    assert.equal(run.status, 0, run.stderr.toString());
    const report = auditTrace(readFileSync(file, 'utf8'), { inTree, cwd: process.cwd() });
    assert.equal(report.unsafe.length, 1, describe(report));
    assert.match(report.unsafe[0]?.unsafe ?? '', /follows a link at .*\/users\/eve\/state\/openclaw.json/);
  });

  await t.test('set and render merge around the links and never read through them', async () => {
    const set = await traced(['set', 'eve', '--memory', '300m']);
    assert.ok(set.accesses.length > 0, 'set touched nothing inside eve\'s trees: the audit saw nothing to judge');
    assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), /memory: 300m/);
    await traced(['render']);
  });

  await t.test('up, a token rotation and doctor', async () => {
    await traced(['up']);
    await traced(['token', 'eve', '--rotate']);
    await traced(['doctor'], true);
  });

  await t.test('backup and restore walk the trees by handle', async () => {
    const backup = await traced(['backup', 'eve']);
    assert.ok(backup.counts['proc-fd'] + backup.counts.dirfd > 0, describe(backup));
    // Nothing the links point at went into the archive.
    const [made] = JSON.parse((await ocm(['backups', 'eve', '--json'], { root: given })).stdout) as Array<{ archive: string }>;
    const bytes = archiveBytes(made?.archive as string);
    assert.ok(bytes.includes('mine\n'), 'the archive lacks eve\'s own file');
    assert.ok(!bytes.includes('precious') && !bytes.includes('"host":true') && !bytes.includes('deeper\n'), 'a canary file is in the archive');
    const restore = await traced(['restore', 'eve', '--yes']);
    assert.ok(restore.accesses.length > 0, describe(restore));
    // Links out of the tree are left out of backups, so they do not come back, and nothing came back in their place.
    assert.equal(lstatSync(`${state}/media`, { throwIfNoEntry: false }), undefined);
    assert.equal(lstatSync(`${state}/agents/main/sessions`, { throwIfNoEntry: false }), undefined);
    assert.equal(readFileSync(`${state}/agents/main/notes.md`, 'utf8'), 'mine\n');
  });

  await t.test('purge deletes the links, not what they point at', async () => {
    const purge = await traced(['remove', 'eve', '--purge', '--yes']);
    assert.ok(purge.accesses.length > 0, describe(purge));
    assert.equal(spawnSync('test', ['-e', `${root}/users/eve`]).status, 1, 'users/eve is still there');
  });

  t.diagnostic(`total: ${counted} calls inside tenant trees, ${JSON.stringify(totals)}, ${unsafe} unsafe; programs run: ${[...programs].join(', ')}`);
});

// A restore whose gateway never gets healthy puts the previous trees back and
// deletes the restored ones the gateway ran on: the tenant's by then, so that
// deletion must go by descriptor too (it was a recursive rm by path). Runs the
// built @ocm/backup in a child under strace; the tree is made before, untraced.
const BACKUP_DIST = new URL('../../packages/backup/dist/index.js', import.meta.url).href;

test('a restore that fails removes the tree the gateway ran on without resolving its names', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'ocm-audit-restore-');
  const root = realpathSync(dir);
  const userDir = `${root}/users/eve`;
  const canary = tempDir(t, 'ocm-canary-');
  mkdirSync(`${canary}/keep`);
  writeFileSync(`${canary}/keep/f`, 'precious\n');
  const canaryBefore = snapshot(canary);
  mkdirSync(`${userDir}/state/agents/main`, { recursive: true });
  mkdirSync(`${userDir}/config`);
  writeFileSync(`${userDir}/state/agents/main/notes.md`, 'mine\n');
  symlinkSync(`${canary}/keep`, `${userDir}/state/agents/keep`);
  const { createBackup, noGuard } = await import('@ocm/backup');
  const { archive } = await createBackup({
    user: 'eve', destDir: `${root}/backups/eve`, clock: { now: () => new Date('2026-06-01T03:00:00Z') }, consistency: noGuard,
    sources: [{ dir: `${userDir}/state`, prefix: 'state' }, { dir: `${userDir}/config`, prefix: 'config' }],
  });
  writeFileSync(`${userDir}/state/agents/main/later.md`, 'after the backup\n');
  // What the gateway could have done to the restored tree before it was found unhealthy is
  // not reproducible here (it never runs); what counts is how root deletes it.
  const script = `
    const { restoreState } = await import(${JSON.stringify(BACKUP_DIST)});
    let running = true;
    const control = { isRunning: async () => running, pause: async () => {}, unpause: async () => {}, stop: async () => { running = false; }, start: async () => { running = true; } };
    await restoreState({ archive: process.argv[1], userDir: process.argv[2], control, rotateToken: async () => async () => {},
      waitHealthy: async () => { throw new Error('never healthy'); }, clock: { now: () => new Date('2026-06-02T03:00:00Z') } })
      .then(() => console.log('restored'), (e) => console.log(e.code));`;
  const file = `${root}/restore.trace`;
  const run = spawnSync('strace', [...STRACE_ARGS, '-o', file, process.execPath, '--input-type=module', '-e', script, archive, userDir], { encoding: 'utf8' });
  assert.equal(run.stdout.trim(), 'OCM_E_RESTORE_FAILED', run.stderr);
  const text = readFileSync(file, 'utf8');
  const report = auditTrace(text, { inTree: tenantTrees(root), cwd: process.cwd() });
  t.diagnostic(`failed restore: ${report.accesses.length} calls inside tenant trees ${JSON.stringify(report.counts)}, ${report.unsafe.length} unsafe`);
  assert.deepEqual(blindSpots(text, root, report), []);
  assert.deepEqual(report.unsafe.map((a) => a.call.line), [], describe(report));
  assert.ok(report.counts.dirfd > 0, `the restored tree was not deleted by descriptor:\n${describe(report)}`);
  assert.equal(readFileSync(`${userDir}/state/agents/main/later.md`, 'utf8'), 'after the backup\n', 'the previous state is back');
  assert.deepEqual(snapshot(canary), canaryBefore);
});
