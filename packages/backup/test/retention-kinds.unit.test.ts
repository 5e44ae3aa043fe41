// Manual and scheduled archives are two series: several of each per day, and
// a run prunes only its own kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { archiveName, parseArchiveName, planRetention, type ArchiveKind, type Dated } from '../src/index.js';

const at = (iso: string, kind?: ArchiveKind): Dated => ({ path: `${iso}${kind === 'manual' ? ' m' : ''}`, time: new Date(iso), ...(kind === undefined ? {} : { kind }) });
const paths = (xs: Dated[]): string[] => xs.map((x) => x.path);

test('manual archives are named -manual; old names still parse, as scheduled', () => {
  const t = new Date('2026-12-05T07:40:12Z');
  assert.equal(archiveName('alice', t, 'manual'), 'alice-20261205T074012Z-manual.tar.gz');
  assert.equal(archiveName('alice', t), 'alice-20261205T074012Z.tar.gz');
  assert.deepEqual(parseArchiveName('alice-20261205T074012Z-manual.tar.gz'), { user: 'alice', time: t, kind: 'manual' });
  assert.deepEqual(parseArchiveName('alice-20261205T074012Z.tar.gz'), { user: 'alice', time: t, kind: 'scheduled' });
  assert.deepEqual(parseArchiveName('my-bob-20261205T074012Z-manual.tar.gz'), { user: 'my-bob', time: t, kind: 'manual' });
  assert.equal(parseArchiveName('alice-20261205T074012Z-manual.tar.gz.sha256'), undefined);
  assert.equal(parseArchiveName('alice-20261205T074012Z-manual.tar.gz.verify.json'), undefined);
  assert.equal(parseArchiveName('alice-20261205T074012Z-other.tar.gz')?.user, undefined);
});

// Three days, each with a nightly archive and several taken by hand.
const mixed = [
  at('2026-12-03T03:00:00Z'), at('2026-12-03T09:00:00Z', 'manual'), at('2026-12-03T15:00:00Z', 'manual'),
  at('2026-12-04T03:00:00Z'), at('2026-12-04T03:30:00Z'), at('2026-12-04T10:00:00Z', 'manual'),
  at('2026-12-05T03:00:00Z'), at('2026-12-05T07:40:00Z', 'manual'), at('2026-12-05T07:41:00Z', 'manual'), at('2026-12-05T07:42:00Z', 'manual'),
];
const now = new Date('2026-12-05T08:00:00Z');

test('mixed series: nightly ones by day, manual ones by count, neither counts against the other', () => {
  const { keep, prune } = planRetention(mixed, now, { keepDaily: 2, keepWeekly: 0, keepManual: 3 });
  assert.deepEqual(paths(keep), [
    '2026-12-05T07:42:00Z m', '2026-12-05T07:41:00Z m', '2026-12-05T07:40:00Z m',
    '2026-12-05T03:00:00Z', '2026-12-04T03:30:00Z',
  ]);
  assert.deepEqual(paths(prune), ['2026-12-04T10:00:00Z m', '2026-12-04T03:00:00Z', '2026-12-03T15:00:00Z m', '2026-12-03T09:00:00Z m', '2026-12-03T03:00:00Z']);
});

test('a manual run prunes only manual archives, a scheduled run only scheduled ones', () => {
  const policy = { keepDaily: 1, keepWeekly: 0, keepManual: 2 };
  const manualRun = planRetention(mixed, now, policy, 'manual');
  assert.deepEqual(paths(manualRun.prune), ['2026-12-05T07:40:00Z m', '2026-12-04T10:00:00Z m', '2026-12-03T15:00:00Z m', '2026-12-03T09:00:00Z m']);
  assert.ok(manualRun.keep.filter((x) => x.kind === undefined).length === 4, 'every nightly archive kept by a manual run');
  const scheduledRun = planRetention(mixed, now, policy, 'scheduled');
  assert.deepEqual(paths(scheduledRun.prune), ['2026-12-04T03:30:00Z', '2026-12-04T03:00:00Z', '2026-12-03T03:00:00Z']);
  assert.ok(scheduledRun.keep.filter((x) => x.kind === 'manual').length === 6, 'every manual archive kept by a scheduled run');
});

test('several manual backups the same day are all kept up to keepManual (default 5)', () => {
  const day = Array.from({ length: 7 }, (_, i) => at(`2026-12-05T0${i}:10:00Z`, 'manual'));
  const { keep, prune } = planRetention(day, now, undefined, 'manual');
  assert.deepEqual(paths(keep), ['2026-12-05T06:10:00Z m', '2026-12-05T05:10:00Z m', '2026-12-05T04:10:00Z m', '2026-12-05T03:10:00Z m', '2026-12-05T02:10:00Z m']);
  assert.deepEqual(paths(prune), ['2026-12-05T01:10:00Z m', '2026-12-05T00:10:00Z m']);
});

test('manual archives dated in the future are kept and do not use up keepManual', () => {
  const xs = [at('2027-01-01T00:00:00Z', 'manual'), at('2026-12-05T07:00:00Z', 'manual'), at('2026-12-04T07:00:00Z', 'manual')];
  const { keep, prune } = planRetention(xs, now, { keepDaily: 7, keepWeekly: 4, keepManual: 1 }, 'manual');
  assert.deepEqual(paths(keep), ['2027-01-01T00:00:00Z m', '2026-12-05T07:00:00Z m']);
  assert.deepEqual(paths(prune), ['2026-12-04T07:00:00Z m']);
});
