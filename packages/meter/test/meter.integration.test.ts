// The meter between users and a stand-in provider, with a real usage store:
// key swap, counting and pricing, streams, caps under racing calls, refusals.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { meterKey, type BudgetLimits, type Provider } from '@ocm/core';
import { createMeterServer, openUsageStore, type MeterConfig, type UsageStore } from '@ocm/meter';
import { startStandIn, type StandIn } from './stand-in-provider.js';
import { callMeter } from './meter-client.js';

const SECRET = 'test-root-secret';
const ADMIN_OPENAI = 'sk-admin-openai-0123456789';
const ADMIN_ANTHROPIC = 'sk-ant-admin-0123456789';
// gpt-5 call from the stand-in: 800 input, 200 cached, 500 output.
const GPT5_COST = (800 * 1.25 + 200 * 0.125 + 500 * 10) / 1e6;
const ALICE = '127.0.1.2';
const BOB = '127.0.2.2';

interface Setup { port: number; standIn: StandIn; store: UsageStore; config: MeterConfig; caps: string[] }

async function setup(t: TestContext, limits: Partial<Record<string, BudgetLimits>> = {}, maxBodyBytes?: number, now?: () => number): Promise<Setup> {
  const standIn = await startStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'ocm-meter-'));
  const store = openUsageStore(join(dir, 'usage.db'));
  const providers: Record<string, Provider> = {
    openai: { api: 'openai-completions', baseUrl: `${standIn.url}/v1`, apiKey: ADMIN_OPENAI, models: ['gpt-5', 'gpt-5-mini'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } },
    responses: { api: 'openai-responses', baseUrl: `${standIn.url}/v1`, apiKey: ADMIN_OPENAI, models: ['gpt-5'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } },
    claude: { api: 'anthropic-messages', baseUrl: standIn.url, apiKey: ADMIN_ANTHROPIC, models: ['claude-x'], prices: { 'claude-x': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } } },
  };
  const none: BudgetLimits = { own: undefined, group: undefined };
  const config: MeterConfig = {
    providers, timezone: 'Europe/Berlin',
    users: new Map([['alice', { subnet: '127.0.1.0/28', limits: limits.alice ?? none }], ['bob', { subnet: '127.0.2.0/28', limits: limits.bob ?? none }]]),
  };
  const caps: string[] = [];
  const server = createMeterServer({ config: () => config, secret: SECRET, store, maxBodyBytes, now, onCap: (user, d) => caps.push(`${user} ${d.scope}`) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await standIn.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { port: (server.address() as AddressInfo).port, standIn, store, config, caps };
}

const chat = (stream: boolean, extra: Record<string, unknown> = {}) => ({ model: 'gpt-5', stream, messages: [{ role: 'user', content: 'hi' }], ...extra });

test('a streamed OpenAI call: admin key upstream, usage asked for, its chunk stripped, counted and priced', async (t) => {
  const s = await setup(t);
  const answer = await callMeter(s.port, { from: ALICE, key: meterKey(SECRET, 'alice'), path: '/openai/chat/completions', body: chat(true) });
  assert.equal(answer.status, 200);
  assert.match(answer.text, /"content":"Hel"/);
  assert.ok(!answer.text.includes('"usage":{') && !answer.text.includes('"choices":[]'), 'the client did not ask for usage and gets no usage chunk');
  assert.ok(answer.text.trimEnd().endsWith('data: [DONE]'));
  const got = s.standIn.received[0];
  assert.equal(got?.path, '/v1/chat/completions');
  assert.equal(got?.headers.authorization, `Bearer ${ADMIN_OPENAI}`);
  assert.ok(!JSON.stringify(got?.headers).includes('ocm-meter-'), 'the user key never reaches the provider');
  assert.deepEqual(got?.body.stream_options, { include_usage: true });
  const [row] = s.store.report({});
  assert.deepEqual({ ...row, costUsd: Number(row?.costUsd.toFixed(9)) }, {
    user: 'alice', day: row?.day, provider: 'openai', model: 'gpt-5', calls: 1, inputTokens: 800, cacheReadTokens: 200, cacheWriteTokens: 0, outputTokens: 500, reasoningTokens: 100, totalTokens: 1500, costUsd: Number(GPT5_COST.toFixed(9)),
  });
});

test('a client that asked for usage keeps its usage chunk; a plain JSON call is counted too', async (t) => {
  const s = await setup(t);
  const key = meterKey(SECRET, 'alice');
  const asked = await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true, { stream_options: { include_usage: true } }) });
  assert.match(asked.text, /"choices":\[\],"usage":\{"prompt_tokens":1000/);
  const plain = await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(false) });
  assert.equal(plain.status, 200);
  assert.equal((JSON.parse(plain.text) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 1000);
  assert.equal(s.standIn.received[1]?.body.stream_options, undefined, 'a plain call is not changed');
  assert.equal(s.store.report({})[0]?.calls, 2);
});

test('OpenAI responses, streamed and not: the admin key upstream, the request unchanged, usage from response.completed', async (t) => {
  const s = await setup(t);
  const key = meterKey(SECRET, 'alice');
  const body = { model: 'gpt-5', input: 'hi' };
  const streamed = await callMeter(s.port, { from: ALICE, key, path: '/responses/responses', body: { ...body, stream: true } });
  assert.equal(streamed.status, 200);
  assert.match(streamed.text, /event: response\.completed\ndata: .*"usage":\{"input_tokens":1000/, 'the client gets every event, usage included');
  const plain = await callMeter(s.port, { from: ALICE, key, path: '/responses/responses', body });
  assert.equal(plain.status, 200);
  const got = s.standIn.received[0];
  assert.equal(got?.path, '/v1/responses');
  assert.equal(got?.headers.authorization, `Bearer ${ADMIN_OPENAI}`);
  assert.deepEqual(got?.body, { ...body, stream: true }, 'nothing added to a responses request');
  const chatOnly = await callMeter(s.port, { from: ALICE, key, path: '/responses/chat/completions', body: chat(true) });
  assert.equal(chatOnly.status, 404, 'a responses provider serves /responses only');
  const [row] = s.store.report({ user: 'alice' });
  assert.deepEqual([row?.provider, row?.calls, row?.inputTokens, row?.cacheReadTokens, row?.outputTokens, row?.reasoningTokens], ['responses', 2, 1600, 400, 1000, 200]);
  assert.equal(row?.costUsd.toFixed(9), (GPT5_COST * 2).toFixed(9));
});

test('Anthropic messages, streamed and not: x-api-key swapped, message_start and message_delta counted, cache writes at their own price', async (t) => {
  const s = await setup(t);
  const key = meterKey(SECRET, 'bob');
  const body = { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
  const streamed = await callMeter(s.port, { from: BOB, key, anthropic: true, path: '/claude/v1/messages', body: { ...body, stream: true } });
  assert.equal(streamed.status, 200);
  assert.match(streamed.text, /event: message_stop/);
  const plain = await callMeter(s.port, { from: BOB, key, anthropic: true, path: '/claude/v1/messages', body });
  assert.equal(plain.status, 200);
  assert.equal(s.standIn.received[0]?.headers['x-api-key'], ADMIN_ANTHROPIC);
  assert.equal(s.standIn.received[0]?.headers.authorization, undefined);
  const [row] = s.store.report({ user: 'bob' });
  assert.equal(row?.calls, 2);
  assert.equal(row?.inputTokens, 600);
  assert.equal(row?.cacheReadTokens, 200);
  assert.equal(row?.cacheWriteTokens, 100);
  assert.equal(row?.outputTokens, 80);
  assert.equal(row?.totalTokens, 600 + 200 + 100 + 80);
  assert.equal(row?.costUsd.toFixed(9), ((2 * (300 * 3 + 100 * 0.3 + 50 * 3.75 + 40 * 15)) / 1e6).toFixed(9));
});

test('refusals: a key from another user\'s network, a forged key, an unknown provider or path, an unlisted model, a big body', async (t) => {
  const s = await setup(t, {}, 4096);
  const alice = meterKey(SECRET, 'alice');
  const fromBob = await callMeter(s.port, { from: BOB, key: alice, path: '/openai/chat/completions', body: chat(false) });
  assert.equal(fromBob.status, 401);
  assert.match(fromBob.text, /"error":\{"message":"this key is not valid here/);
  assert.equal((await callMeter(s.port, { from: ALICE, key: meterKey('guess', 'alice'), path: '/openai/chat/completions', body: chat(false) })).status, 401);
  assert.equal((await callMeter(s.port, { from: ALICE, key: ADMIN_OPENAI, path: '/openai/chat/completions', body: chat(false) })).status, 401);
  assert.equal((await callMeter(s.port, { from: ALICE, path: '/openai/chat/completions', body: chat(false) })).status, 401);
  assert.equal((await callMeter(s.port, { from: ALICE, key: alice, path: '/evil/chat/completions', body: chat(false) })).status, 404);
  assert.equal((await callMeter(s.port, { from: ALICE, key: alice, path: '/openai/../../etc', body: chat(false) })).status, 404);
  assert.equal((await callMeter(s.port, { from: ALICE, key: alice, path: '/openai/embeddings', body: chat(false) })).status, 404);
  const model = await callMeter(s.port, { from: ALICE, key: alice, path: '/openai/chat/completions', body: chat(false, { model: 'o9' }) });
  assert.equal(model.status, 400);
  assert.match(model.text, /model \\"o9\\" is not offered/);
  const big = await callMeter(s.port, { from: ALICE, key: alice, path: '/openai/chat/completions', body: chat(false, { pad: 'x'.repeat(5000) }) });
  assert.equal(big.status, 413);
  assert.equal(s.standIn.received.length, 0, 'nothing reached the provider');
  assert.equal(s.store.report({}).length, 0);
});

test('upstream errors pass through unchanged and cost nothing', async (t) => {
  const s = await setup(t);
  const body = '{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}';
  s.standIn.failWith = { status: 429, body };
  const answer = await callMeter(s.port, { from: ALICE, key: meterKey(SECRET, 'alice'), path: '/openai/chat/completions', body: chat(true) });
  assert.equal(answer.status, 429);
  assert.equal(answer.text, body);
  assert.equal(answer.headers['x-request-id'], 'upstream-req-1');
  assert.equal(s.store.report({}).length, 0);
});

test('a daily cap: 429 in the provider\'s shape with Retry-After to Berlin midnight, one cap event; others unaffected', async (t) => {
  const s = await setup(t, { alice: { own: { daily: GPT5_COST * 1.5 }, group: undefined } });
  const key = meterKey(SECRET, 'alice');
  for (let i = 0; i < 2; i += 1) assert.equal((await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true) })).status, 200);
  const refused = await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true) });
  assert.equal(refused.status, 429);
  const retry = Number(refused.headers['retry-after']);
  const berlinMidnight = new Date(new Date().toLocaleString('en-US', { timeZone: 'Europe/Berlin' }));
  assert.ok(retry >= 1 && retry <= 25 * 3600, `Retry-After ${retry} within a day (${berlinMidnight.toISOString()})`);
  const error = (JSON.parse(refused.text) as { error: { type: string; code: string; message: string } }).error;
  assert.equal(error.type, 'insufficient_quota');
  assert.equal(error.code, 'budget_exceeded');
  assert.match(error.message, /alice has used \$0\.01 of the \$0\.01 daily model budget/);
  await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true) });
  assert.deepEqual(s.caps, ['alice daily'], 'one cap event per window');
  assert.equal(s.standIn.received.length, 2);
  assert.equal((await callMeter(s.port, { from: BOB, key: meterKey(SECRET, 'bob'), path: '/openai/chat/completions', body: chat(false) })).status, 200);
  const anthropic = await callMeter(s.port, { from: ALICE, key, anthropic: true, path: '/claude/v1/messages', body: { model: 'claude-x', messages: [] } });
  assert.equal(anthropic.status, 429);
  assert.equal((JSON.parse(anthropic.text) as { error: { type: string } }).error.type, 'rate_limit_error');
});

test('a group cap covers its members together', async (t) => {
  const group = { name: 'kids', budget: { daily: GPT5_COST * 0.5 }, members: ['alice', 'bob'] };
  const s = await setup(t, { alice: { own: undefined, group }, bob: { own: undefined, group } });
  assert.equal((await callMeter(s.port, { from: ALICE, key: meterKey(SECRET, 'alice'), path: '/openai/chat/completions', body: chat(false) })).status, 200);
  const bob = await callMeter(s.port, { from: BOB, key: meterKey(SECRET, 'bob'), path: '/openai/chat/completions', body: chat(false) });
  assert.equal(bob.status, 429);
  assert.match(bob.text, /group daily model budget/);
});

test('calls racing the cap: the overshoot is at most the calls already in flight', async (t) => {
  const s = await setup(t, { alice: { own: { daily: GPT5_COST * 2.5 }, group: undefined } });
  s.standIn.delayMs = 30;
  const key = meterKey(SECRET, 'alice');
  const first = await Promise.all(Array.from({ length: 8 }, () => callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true) })));
  assert.ok(first.every((a) => a.status === 200), 'all 8 started under the cap, so all 8 finish');
  const spent = s.store.spent(['alice'], 0, Date.now() + 1000);
  assert.ok(spent <= GPT5_COST * 2.5 + 8 * GPT5_COST, 'overshoot bounded by the calls in flight');
  const after = await Promise.all(Array.from({ length: 5 }, () => callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(true) })));
  assert.ok(after.every((a) => a.status === 429), 'once over, every new call is refused');
  assert.equal(s.standIn.received.length, 8);
  assert.equal(s.store.report({})[0]?.calls, 8);
});

test('a client leaving mid-stream is still counted from the provider\'s answer', async (t) => {
  const s = await setup(t);
  s.standIn.delayMs = 50;
  const { request } = await import('node:http');
  await new Promise<void>((resolve) => {
    const payload = JSON.stringify(chat(true));
    const req = request({ host: '127.0.0.1', port: s.port, path: '/openai/chat/completions', method: 'POST', localAddress: ALICE,
      headers: { authorization: `Bearer ${meterKey(SECRET, 'alice')}`, 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => { req.destroy(); resolve(); });
    });
    req.on('error', () => undefined);
    req.end(payload);
  });
  for (let i = 0; i < 50 && s.store.report({}).length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.store.report({})[0]?.calls, 1);
});

test('a price change mid-month: each call is priced at the rates in force when it was written', async (t) => {
  const s = await setup(t);
  const key = meterKey(SECRET, 'alice');
  await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(false) });
  const provider = s.config.providers.openai;
  assert.ok(provider !== undefined);
  provider.prices['gpt-5'] = { input: 2.5, output: 20, cacheRead: 0.25 };
  await callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(false) });
  assert.equal(s.store.report({})[0]?.costUsd.toFixed(9), (GPT5_COST * 3).toFixed(9), 'old rate once, double rate once');
});

test('day and month rollover in Europe/Berlin: a cap reached at 23:59 local lifts at local midnight, not UTC\'s', async (t) => {
  // 2026-03-31 23:59:30 in Berlin (CEST) is 21:59:30 UTC; April starts there at 22:00 UTC.
  let clock = Date.UTC(2026, 2, 31, 21, 59, 30);
  const s = await setup(t, { alice: { own: { daily: GPT5_COST * 0.5, monthly: GPT5_COST * 1.5 }, group: undefined } }, undefined, () => clock);
  const key = meterKey(SECRET, 'alice');
  const call = () => callMeter(s.port, { from: ALICE, key, path: '/openai/chat/completions', body: chat(false) });
  assert.equal((await call()).status, 200);
  const refused = await call();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '30', 'Retry-After: 30 s to Berlin midnight (month and day end together)');
  clock = Date.UTC(2026, 2, 31, 22, 0, 1);
  assert.equal((await call()).status, 200, 'a new day and a new month in Berlin');
  assert.deepEqual(s.store.report({}).map((r) => [r.day, r.calls]), [['2026-03-31', 1], ['2026-04-01', 1]]);
  const again = await call();
  assert.equal(again.status, 429);
  assert.match(again.text, /daily model budget/);
});
