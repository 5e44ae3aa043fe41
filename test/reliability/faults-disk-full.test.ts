// A backup that runs out of disk: the backups directory is a 20 MB tmpfs,
// filled so that the scratch copy, or then the archive itself, hits ENOSPC.
// Each time: non-zero exit, one clear error, no partial archive left or
// listed, older backups intact and verified, the gateway running (not left
// paused). With space back, the next backup works.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { getDocker } from '../support/docker.js';
import { probeHealth, run, sleep } from './support/measure.js';
import { record } from './support/record.js';

const docker = getDocker();
const MiB = 1024 * 1024;

test('disk full during a backup', { timeout: 180_000 }, async (t) => {
  const { root, portBase, project } = await testRoot(t);
  let r = await ocm(['add', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  // 3 MiB that gzip cannot shrink, so the scratch copy and the archive are ~3 MiB each.
  const blob = `${root}/users/alice/state/blob.bin`;
  writeFileSync(blob, randomBytes(3 * MiB));
  chownSync(blob, 1000, 1000);

  const backups = `${root}/backups`;
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=20m,mode=0700', 'tmpfs', backups]);
  if (mounted.code !== 0) {
    t.skip(`cannot mount a tmpfs here (${mounted.stderr.trim()}); ENOSPC needs a small filesystem`);
    return;
  }
  const unmount = async (): Promise<void> => {
    await run('umount', [backups]);
  };
  t.after(unmount);
  const filler = `${backups}/.filler`;
  const free = (): number => {
    const s = statfsSync(backups);
    return s.bavail * s.bsize;
  };
  /** Leave exactly `left` bytes free. */
  const fillTo = (left: number): void => {
    rmSync(filler, { force: true });
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - left)));
  };
  const listing = (): string[] => readdirSync(`${backups}/alice`).filter((f) => f !== '.last-result.json').sort();
  const figures: Record<string, unknown> = {};

  interface Outcome { exit: number; ms: number; error: string | undefined; mentionsSpace: boolean; leftovers: string[]; olderVerified: boolean; paused: boolean; healthy: boolean }
  const outcomes: Record<string, Outcome> = {};
  try {
    r = await ocm(['backup', 'alice'], { root });
    assert.equal(r.code, 0, r.stderr);
    const good = listing();
    const archive = good.find((f) => f.endsWith('.tar.gz'));
    assert.ok(archive !== undefined);
    const archiveBytes = statSync(`${backups}/alice/${archive}`).size;
    figures.archiveBytes = archiveBytes;

    // The scratch copy is about as big as the archive (the blob does not compress), so:
    // room for the copy but not the archive; room for neither; no room at all.
    const phases: Array<[string, number]> = [['archive write', Math.round(archiveBytes * 1.5)], ['scratch copy', Math.round(archiveBytes / 2)], ['nothing free', 16 * 1024]];
    for (const [phase, left] of phases) {
      await sleep(1_100); // archive names have one-second resolution
      fillTo(left);
      const t0 = Date.now();
      r = await ocm(['backup', 'alice'], { root });
      const out = `${r.stdout}\n${r.stderr}`;
      const check = await ocm(['backups', 'alice', '--check', '--json'], { root });
      const infos = check.code === 0 ? (JSON.parse(check.stdout) as Array<{ verified?: boolean }>) : [];
      const state = (await docker.getContainer(`${project}-alice`).inspect()).State;
      outcomes[phase] = {
        exit: r.code, ms: Date.now() - t0,
        error: r.stderr.split('\n').find((l) => l.startsWith('error:')),
        mentionsSpace: /ENOSPC|no space/i.test(out),
        leftovers: listing().filter((f) => !good.includes(f)),
        olderVerified: infos.length === 1 && infos[0]?.verified === true,
        paused: state.Paused, healthy: state.Running && (await probeHealth(portBase, 3_000)).ok,
      };
      // Whatever a crash left behind is cleaned by the next backup; keep the phases independent.
      for (const f of outcomes[phase]?.leftovers ?? []) rmSync(`${backups}/alice/${f}`, { recursive: true, force: true });
    }
    rmSync(filler);
    await sleep(1_100);
    r = await ocm(['backup', 'alice'], { root });
    const verify = await ocm(['backups', 'alice', '--check', '--json'], { root });
    figures.afterSpaceFreed = { exit: r.code, verified: verify.code === 0 && (JSON.parse(verify.stdout) as Array<{ verified?: boolean }>).every((i) => i.verified === true) };
  } finally {
    rmSync(filler, { force: true });
    await unmount();
  }
  figures.phases = outcomes;

  const clean = (phase: string) => () => {
    const o = outcomes[phase];
    assert.ok(o !== undefined);
    assert.notEqual(o.exit, 0, 'the backup claimed success');
    assert.match(o.error ?? '', /^error: \S/, 'one error line');
    assert.ok(o.mentionsSpace, 'the output names the cause');
    assert.deepEqual(o.leftovers, [], 'no partial archive, scratch copy or lock left');
    assert.ok(o.olderVerified, 'the older archive is listed and verifies');
    assert.equal(o.paused, false, 'gateway not left paused');
    assert.ok(o.healthy, 'gateway answers');
  };
  await t.test('out of space in the scratch copy: clean failure', clean('scratch copy'));
  await t.test('no space at all: clean failure', clean('nothing free'));
  await t.test('out of space while the archive is written: clean failure', clean('archive write'));
  await t.test('with space back, the next backup works and every archive verifies', () => assert.deepEqual(figures.afterSpaceFreed, { exit: 0, verified: true }));
  record(t, 'faults.disk-full', figures);
});
