// The pure rules: what to order and when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueAt, planIssuance, renewAt, retryAt, RETRY_MAX_MS } from '@ocm/acme';

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 6);

test('a 90-day certificate renews 30 days before expiry', () => {
  assert.equal(renewAt({ notBefore: now, notAfter: now + 90 * DAY }), now + 60 * DAY);
});

test('a 6-day certificate renews with a third of its lifetime left', () => {
  assert.equal(renewAt({ notBefore: now, notAfter: now + 6 * DAY }), now + 4 * DAY);
});

test('a one-year certificate still renews 30 days before expiry', () => {
  assert.equal(renewAt({ notBefore: now, notAfter: now + 365 * DAY }), now + 335 * DAY);
});

test('retries double from a minute and stop growing at six hours', () => {
  assert.equal(retryAt({ attempts: 1, at: now, message: 'x' }), now + 60_000);
  assert.equal(retryAt({ attempts: 3, at: now, message: 'x' }), now + 240_000);
  assert.equal(retryAt({ attempts: 40, at: now, message: 'x' }), now + RETRY_MAX_MS);
});

test('a host without a certificate is due now, unless it just failed', () => {
  assert.equal(dueAt({}, now), now);
  assert.equal(dueAt({ failure: { attempts: 2, at: now - 1000, message: 'x' } }, now), now - 1000 + 120_000);
});

test('a failed renewal waits for its retry even when the renewal time has passed', () => {
  const cert = { notBefore: now - 80 * DAY, notAfter: now + 10 * DAY };
  assert.equal(dueAt({ cert }, now), now - 20 * DAY);
  assert.equal(dueAt({ cert, failure: { attempts: 1, at: now, message: 'x' } }, now), now + 60_000);
});

test('the plan orders only the hosts given, those due, and says when to look again', () => {
  const states = new Map([
    ['alice.your-ai.com', { cert: { notBefore: now - DAY, notAfter: now + 89 * DAY } }],
    ['bob.your-ai.com', { cert: { notBefore: now - 85 * DAY, notAfter: now + 5 * DAY } }],
    ['stranger.example', {}],
  ]);
  const plan = planIssuance(['alice.your-ai.com', 'bob.your-ai.com', 'carol.your-ai.com'], states, now);
  assert.deepEqual(plan.due, ['bob.your-ai.com', 'carol.your-ai.com']);
  assert.equal(plan.nextAt, now + 59 * DAY);
  assert.deepEqual(planIssuance([], states, now), { due: [], nextAt: undefined });
});
