// Budget decisions of the model meter: cost, windows in a timezone (DST
// included), caps and Retry-After, the schema's refusals and meter keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  budgetDecision, budgetLimits, budgetWindows, callCost, checkManifestRules, localDay, meterKey, meterKeyUser,
  parseUsd, planNetworkPolicy, validateManifest, type BudgetLimits,
} from '@ocm/core';

const provider = { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-admin', models: ['gpt-5', 'gpt-5-mini'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } };

const manifest = (models: Record<string, unknown>, users: unknown[] = [{ name: 'alice', port: 18800 }, { name: 'tom', port: 18801 }, { name: 'lea', port: 18802 }], timezone = 'UTC') =>
  validateManifest({ settings: { timezone, models: { providers: { openai: provider }, ...models } }, users });

test('callCost: USD per million tokens, cached input at its own rate, unpriced models free', () => {
  const usage = { inputTokens: 1_000_000, cacheReadTokens: 2_000_000, cacheWriteTokens: 0, outputTokens: 100_000, reasoningTokens: 50_000 };
  assert.equal(callCost(usage, { input: 1.25, output: 10, cacheRead: 0.125 }), 1.25 + 0.25 + 1);
  assert.equal(callCost(usage, { input: 1, output: 2 }), 1 + 2 + 0.2, 'cache reads default to the input price');
  assert.equal(callCost(usage, undefined), 0);
  const written = { ...usage, cacheWriteTokens: 400_000 };
  assert.equal(callCost(written, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }), 3 + 0.6 + 1.5 + 1.5, 'cache writes at their own price');
  const hour = { ...written, cacheWrite1hTokens: 100_000 };
  assert.equal(callCost(hour, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 }), 6.825, '1-hour cache writes at theirs: 3 + 0.6 + 0.3 x 3.75 + 0.1 x 6 + 1.5');
  assert.equal(callCost(hour, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }), 3 + 0.6 + 1.5 + 1.5, 'without a 1-hour price, the cache write price');
  assert.equal(callCost({ ...written, cacheWrite1hTokens: 9_000_000 }, { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 }), 3 + 0.6 + 0.4 * 6 + 1.5, 'never more 1-hour writes than writes');
  assert.equal(callCost(written, { input: 1, output: 2 }), 1 + 2 + 0.4 + 0.2, 'cache writes default to the input price');
});

test('budgetWindows in UTC: day and month boundaries', () => {
  const now = Date.UTC(2026, 11, 5, 23, 59, 59);
  const w = budgetWindows(now, 'UTC');
  assert.deepEqual(w.day, { key: '2026-12-05', start: Date.UTC(2026, 11, 5), end: Date.UTC(2026, 11, 6) });
  assert.deepEqual(w.month, { key: '2026-12', start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
});

test('budgetWindows in Europe/Berlin: local midnight, and a day 23 or 25 hours long across DST', () => {
  // 2026-03-29: clocks go 02:00 -> 03:00 in Berlin; 2026-10-25: 03:00 -> 02:00.
  const spring = budgetWindows(Date.UTC(2026, 2, 29, 12), 'Europe/Berlin');
  assert.equal(spring.day.key, '2026-03-29');
  assert.equal(spring.day.start, Date.UTC(2026, 2, 28, 23), 'midnight CET is 23:00 UTC the day before');
  assert.equal(spring.day.end, Date.UTC(2026, 2, 29, 22), 'the next midnight is CEST');
  assert.equal(spring.day.end - spring.day.start, 23 * 3600_000);
  const autumn = budgetWindows(Date.UTC(2026, 9, 25, 12), 'Europe/Berlin');
  assert.equal(autumn.day.end - autumn.day.start, 25 * 3600_000);
  assert.equal(spring.month.start, Date.UTC(2026, 1, 28, 23), 'March starts at CET midnight');
  assert.equal(spring.month.end, Date.UTC(2026, 2, 31, 22), 'April starts at CEST midnight');
  // Just after local midnight on the 1st is already the new day and month.
  const justAfter = budgetWindows(Date.UTC(2026, 3, 30, 22, 0, 1), 'Europe/Berlin');
  assert.equal(justAfter.day.key, '2026-05-01');
  assert.equal(justAfter.month.key, '2026-05');
  assert.equal(localDay(Date.UTC(2026, 3, 30, 21, 59, 59), 'Europe/Berlin'), '2026-04-30');
});

test('budgetWindows in a timezone west of UTC with a DST change (America/New_York)', () => {
  const w = budgetWindows(Date.UTC(2026, 10, 1, 12), 'America/New_York'); // DST ends 2026-11-01
  assert.equal(w.day.start, Date.UTC(2026, 10, 1, 4));
  assert.equal(w.day.end, Date.UTC(2026, 10, 2, 5));
  assert.equal(w.month.start, Date.UTC(2026, 10, 1, 4));
  assert.equal(w.month.end, Date.UTC(2026, 11, 1, 5));
});

test('budgetDecision: under, at and over each cap; the latest reset wins', () => {
  const now = Date.UTC(2026, 11, 5, 20);
  const windows = budgetWindows(now, 'UTC');
  const limits: BudgetLimits = { own: { daily: 1, monthly: 10 }, group: { name: 'kids', budget: { daily: 3 }, members: ['tom'] } };
  const spent = { userDay: 0.5, userMonth: 5, groupDay: 2, groupMonth: 2 };
  assert.deepEqual(budgetDecision(limits, spent, windows, now), { allowed: true });
  const daily = budgetDecision(limits, { ...spent, userDay: 1 }, windows, now);
  assert.deepEqual(daily, { allowed: false, scope: 'daily', limit: 1, spent: 1, resetAt: Date.UTC(2026, 11, 6), retryAfterSeconds: 4 * 3600 });
  const both = budgetDecision(limits, { ...spent, userDay: 2, userMonth: 11 }, windows, now);
  assert.equal(both.allowed ? undefined : both.scope, 'monthly');
  assert.equal(both.allowed ? undefined : both.retryAfterSeconds, (Date.UTC(2027, 0, 1) - now) / 1000);
  const group = budgetDecision(limits, { ...spent, groupDay: 3.01 }, windows, now);
  assert.equal(group.allowed ? undefined : group.scope, 'group daily');
  assert.deepEqual(budgetDecision({ own: undefined, group: undefined }, { userDay: 1e9, userMonth: 1e9, groupDay: 0, groupMonth: 0 }, windows, now), { allowed: true }, 'no budget, no cap');
  const zero = budgetDecision({ own: { daily: 0 }, group: undefined }, { userDay: 0, userMonth: 0, groupDay: 0, groupMonth: 0 }, windows, now);
  assert.equal(zero.allowed, false, 'a zero budget refuses every call');
  const lastSecond = budgetDecision(limits, { ...spent, userDay: 1 }, windows, Date.UTC(2026, 11, 5, 23, 59, 59, 500));
  assert.equal(lastSecond.allowed ? undefined : lastSecond.retryAfterSeconds, 1, 'Retry-After is at least 1');
});

test('budgetLimits: the user\'s own budget wins over the default; groups are shared', () => {
  const m = manifest({ budget: { daily: 2, monthly: 30 }, groups: { kids: { daily: 1, members: ['tom', 'lea'] } } },
    [{ name: 'alice', port: 18800, budget: { daily: 5 } }, { name: 'tom', port: 18801 }, { name: 'lea', port: 18802 }]);
  checkManifestRules(m);
  assert.deepEqual(budgetLimits(m, 'alice'), { own: { daily: 5 }, group: undefined });
  assert.deepEqual(budgetLimits(m, 'tom'), { own: { daily: 2, monthly: 30 }, group: { name: 'kids', budget: { daily: 1, monthly: undefined }, members: ['tom', 'lea'] } });
});

test('manifest: models refusals name the field', () => {
  const refuse = (m: () => unknown, text: RegExp) => assert.throws(m, (e: Error & { code?: string }) => text.test(e.message) && /OCM_E_MANIFEST_INVALID/.test(String(e.code)));
  refuse(() => manifest({ budget: { daily: -1 } }), /settings\.models\.budget\.daily/);
  refuse(() => manifest({ providers: { openai: { ...provider, api: 'soap' } } }), /settings\.models\.providers\.openai\.api/);
  refuse(() => manifest({ providers: { openai: { ...provider, baseUrl: 'ftp://x' } } }), /is not an http\(s\) URL/);
  refuse(() => manifest({ providers: { openai: { ...provider, apiKey: 'sk with space' } } }), /apiKey/);
  refuse(() => checkManifestRules(manifest({ groups: { kids: { daily: 1, members: ['nobody'] } } })), /"nobody" is not a user/);
  refuse(() => checkManifestRules(manifest({ groups: { a: { daily: 1, members: ['tom'] }, b: { daily: 1, members: ['tom'] } } })), /already in group "a"/);
  refuse(() => checkManifestRules(manifest({ providers: { openai: { ...provider, prices: { 'gpt-4': { input: 1, output: 1 } } } } })), /"gpt-4" is not in its models list/);
  refuse(() => checkManifestRules(manifest({}, undefined, 'Mars/Olympus')), /settings\.timezone: "Mars\/Olympus" is not a timezone/);
});

test('parseUsd: plain dollars only', () => {
  assert.equal(parseUsd('0.5', '--daily-budget'), 0.5);
  assert.equal(parseUsd(10, 'x'), 10);
  for (const bad of ['-1', '$5', 'five', '1e3', '', '2000000']) {
    assert.throws(() => parseUsd(bad, '--daily-budget'), (e: Error & { code?: string }) => e.code === 'OCM_E_BUDGET_INVALID' && e.message.startsWith('--daily-budget: '), bad);
  }
});

test('the meter port is opened in the network policy once providers are metered', () => {
  const m = manifest({ listenPort: 18790 });
  const input = planNetworkPolicy(m, { resolvers: [] }).chains[1]?.rules.map((r) => r.join(' ')) ?? [];
  assert.ok(input.includes('-s 10.231.0.0/28 -d 10.231.0.1/32 -p tcp -m tcp --dport 18790 -j RETURN'));
  assert.ok(input.includes('-s 10.231.0.16/28 -d 10.231.0.17/32 -p tcp -m tcp --dport 18790 -j RETURN'));
  const none = planNetworkPolicy(validateManifest({ users: [{ name: 'alice', port: 18800 }] }), { resolvers: [] }).chains[1]?.rules.map((r) => r.join(' ')) ?? [];
  assert.ok(!none.some((r) => r.includes('18790')));
});

test('meter keys name their user and cannot be forged for another', () => {
  const key = meterKey('root-secret', 'alice');
  assert.equal(meterKeyUser('root-secret', key), 'alice');
  assert.equal(meterKeyUser('other-secret', key), undefined);
  assert.equal(meterKeyUser('root-secret', key.replace('alice', 'bob')), undefined);
  assert.equal(meterKeyUser('root-secret', 'sk-admin'), undefined);
  assert.notEqual(meterKey('root-secret', 'bob'), key);
});

test('a rotated meter key version refuses the old key and leaves the other users\' keys', () => {
  const before = meterKey('root-secret', 'alice');
  const after = meterKey('root-secret', 'alice', 'v2-0123456789abcdef');
  assert.notEqual(after, before);
  assert.ok(after.startsWith('ocm-meter-alice.'));
  const versions = new Map([['alice', 'v2-0123456789abcdef']]);
  assert.equal(meterKeyUser('root-secret', after, versions), 'alice');
  assert.equal(meterKeyUser('root-secret', before, versions), undefined, 'the key of before the rotation is refused');
  assert.equal(meterKeyUser('root-secret', after), undefined, 'without the version the new key is not valid either');
  assert.equal(meterKeyUser('root-secret', meterKey('root-secret', 'bob'), versions), 'bob');
  // A version for another name does not make alice's key valid under bob's name.
  assert.equal(meterKeyUser('root-secret', after.replace('alice', 'bob'), new Map([['bob', 'v2-0123456789abcdef']])), undefined);
});
