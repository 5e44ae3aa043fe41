// Retention arithmetic on injected dates: UTC days, ISO weeks (53-week years,
// weeks straddling New Year), and the invariants that keep backups safe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoWeek, planRetention, type Dated } from '../src/index.js';

const at = (iso: string, path = iso): Dated => ({ path, time: new Date(iso) });
const paths = (xs: Dated[]): string[] => xs.map((x) => x.path);

/** Reference ISO week by counting Mondays, independent of the Thursday rule used in src. */
function refIsoWeek(d: Date): string {
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const mondayOfWeek1 = (year: number): number => {
    const jan4 = Date.UTC(year, 0, 4);
    return jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86_400_000;
  };
  let year = d.getUTCFullYear() + 1;
  while (mondayOfWeek1(year) > day) year -= 1;
  const week = Math.floor((day - mondayOfWeek1(year)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

test('ISO weeks across year boundaries and week 53', () => {
  assert.equal(isoWeek(new Date('2020-12-31T12:00:00Z')), '2020-W53');
  assert.equal(isoWeek(new Date('2021-01-01T00:00:00Z')), '2020-W53');
  assert.equal(isoWeek(new Date('2021-01-03T23:59:59Z')), '2020-W53');
  assert.equal(isoWeek(new Date('2021-01-04T00:00:00Z')), '2021-W01');
  assert.equal(isoWeek(new Date('2024-12-30T00:00:00Z')), '2025-W01');
  assert.equal(isoWeek(new Date('2026-12-31T00:00:00Z')), '2026-W53');
  assert.equal(isoWeek(new Date('2027-01-01T00:00:00Z')), '2026-W53');
  assert.equal(isoWeek(new Date('2016-01-03T00:00:00Z')), '2015-W53');
  fc.assert(fc.property(fc.date({ min: new Date('1990-01-01Z'), max: new Date('2100-12-31Z'), noInvalidDate: true }), (d) => isoWeek(d) === refIsoWeek(d)));
});

test('nightly backups over 60 days keep 7 days plus 4 older weeks', () => {
  const nightly = Array.from({ length: 60 }, (_, i) => at(new Date(Date.UTC(2026, 10, 30 - i, 3)).toISOString()));
  const now = new Date('2026-11-30T03:30:00Z');
  const { keep, prune } = planRetention(nightly, now, { keepDaily: 7, keepWeekly: 4 });
  // 2026-11-30 is a Monday: days 24..30 cover weeks W48 (Mon 23 .. Sun 29) and W49.
  assert.deepEqual(paths(keep), [
    '2026-11-30T03:00:00.000Z', '2026-11-29T03:00:00.000Z', '2026-11-28T03:00:00.000Z', '2026-11-27T03:00:00.000Z',
    '2026-11-26T03:00:00.000Z', '2026-11-25T03:00:00.000Z', '2026-11-24T03:00:00.000Z',
    // newest of W47, W46, W45, W44 (Sundays)
    '2026-11-22T03:00:00.000Z', '2026-11-15T03:00:00.000Z', '2026-11-08T03:00:00.000Z', '2026-11-01T03:00:00.000Z',
  ]);
  assert.equal(keep.length + prune.length, 60);
});

test('days are UTC days: 23:59:59Z and 00:00:01Z the next day are two days', () => {
  const xs = [at('2026-02-28T23:59:59Z'), at('2026-03-01T00:00:01Z'), at('2026-02-28T12:00:00Z')];
  const { keep } = planRetention(xs, new Date('2026-03-02T00:00:00Z'), { keepDaily: 2, keepWeekly: 0 });
  assert.deepEqual(paths(keep), ['2026-03-01T00:00:01Z', '2026-02-28T23:59:59Z']);
});

test('across New Year in a 53-week year the weekly keeps are per ISO week, not per calendar year', () => {
  const xs = ['2020-12-27T03:00:00Z', '2020-12-28T03:00:00Z', '2020-12-31T03:00:00Z', '2021-01-03T03:00:00Z', '2021-01-04T03:00:00Z', '2021-01-12T03:00:00Z'].map((s) => at(s));
  const { keep } = planRetention(xs, new Date('2021-01-12T04:00:00Z'), { keepDaily: 1, keepWeekly: 3 });
  // daily: 01-12 (W02); weekly: W01 -> 01-04, W53 -> 01-03 (not 12-31, same week), W52 -> 12-27
  assert.deepEqual(paths(keep), ['2021-01-12T03:00:00Z', '2021-01-04T03:00:00Z', '2021-01-03T03:00:00Z', '2020-12-27T03:00:00Z']);
});

test('the newest is kept even with keepDaily 0, and future-dated archives are never pruned', () => {
  const xs = [at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), at('2027-01-01T00:00:00Z')];
  const { keep, prune } = planRetention(xs, new Date('2026-01-03T00:00:00Z'), { keepDaily: 0, keepWeekly: 0 });
  assert.deepEqual(paths(keep), ['2027-01-01T00:00:00Z', '2026-01-02T00:00:00Z']);
  assert.deepEqual(paths(prune), ['2026-01-01T00:00:00Z']);
});

const archivesArb = fc.uniqueArray(fc.integer({ min: Date.UTC(2019, 11, 1), max: Date.UTC(2022, 1, 1) }), { maxLength: 120 }).map((ms) =>
  ms.map((m) => ({ path: `a-${m}`, time: new Date(m) })),
);
const policyArb = fc.record({ keepDaily: fc.integer({ min: 0, max: 10 }), keepWeekly: fc.integer({ min: 0, max: 8 }) });
const nowArb = fc.integer({ min: Date.UTC(2019, 11, 1), max: Date.UTC(2022, 2, 1) }).map((m) => new Date(m));

test('properties: partition, newest kept, per-day and per-week newest, bounded, idempotent', () => {
  fc.assert(
    fc.property(archivesArb, nowArb, policyArb, (xs, now, policy) => {
      const { keep, prune } = planRetention(xs, now, policy);
      assert.equal(keep.length + prune.length, xs.length);
      assert.equal(new Set([...keep, ...prune]).size, xs.length);
      const past = xs.filter((x) => x.time <= now).sort((a, b) => b.time.getTime() - a.time.getTime());
      const future = xs.filter((x) => x.time > now);
      for (const f of future) assert.ok(keep.includes(f), 'future archives are kept');
      if (past[0]) assert.ok(keep.includes(past[0]), 'the newest is never pruned');
      // Each of the last keepDaily days that have an archive keeps its newest one.
      const days = [...new Set(past.map((x) => x.time.toISOString().slice(0, 10)))].slice(0, policy.keepDaily);
      for (const d of days) assert.ok(keep.includes(past.find((x) => x.time.toISOString().startsWith(d)) as Dated), `newest of ${d}`);
      // Every kept past archive is the newest of its day (daily) or of its week (weekly).
      for (const k of keep.filter((x) => x.time <= now)) {
        const sameDay = past.find((x) => x.time.toISOString().slice(0, 10) === k.time.toISOString().slice(0, 10));
        const sameWeek = past.find((x) => refIsoWeek(x.time) === refIsoWeek(k.time));
        assert.ok(sameDay === k || sameWeek === k, 'only newest-of-bucket archives are kept');
      }
      assert.ok(keep.length - future.length <= Math.max(1, policy.keepDaily + policy.keepWeekly));
      // Weekly keeps land in distinct weeks not covered by the daily keeps, and there are as many as available.
      const dailyWeeks = new Set(past.filter((x) => days.includes(x.time.toISOString().slice(0, 10))).map((x) => refIsoWeek(x.time)));
      const olderWeeks = [...new Set(past.map((x) => refIsoWeek(x.time)).filter((w) => !dailyWeeks.has(w)))];
      const weeklyKept = keep.filter((x) => x.time <= now && !days.includes(x.time.toISOString().slice(0, 10)));
      const forcedNewest = days.length === 0 && policy.keepWeekly === 0 && past.length > 0 ? 1 : 0;
      assert.equal(weeklyKept.length, Math.min(policy.keepWeekly, olderWeeks.length) + forcedNewest);
      assert.equal(new Set(weeklyKept.map((x) => refIsoWeek(x.time))).size, weeklyKept.length);
      // Applying the plan again prunes nothing more.
      assert.deepEqual(planRetention(keep, now, policy).prune, []);
    }),
    { numRuns: 500 },
  );
});
