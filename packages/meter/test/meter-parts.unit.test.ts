// The meter's pure parts: event splitting, usage shapes, source addresses, error bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SseSplitter, addressInCidr, anthropicUsage, eventData, openaiUsage, openUsageStore, refusalBody, responsesUsage, usageTap } from '@ocm/meter';

test('SseSplitter gives whole events whatever the chunking', () => {
  const text = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: comment\n\ndata: [DONE]\n\n';
  for (let size = 1; size <= text.length; size += 1) {
    const s = new SseSplitter();
    const events: string[] = [];
    for (let i = 0; i < text.length; i += size) events.push(...s.push(text.slice(i, i + size)));
    assert.equal(events.join(''), text);
    assert.equal(events.length, 4);
    assert.equal(s.rest(), '');
  }
  assert.deepEqual(eventData('event: x\ndata: {"a":1}\n\n'), { a: 1 });
  assert.equal(eventData('data: [DONE]\n\n'), undefined);
  assert.equal(eventData('data: {broken\n\n'), undefined);
});

test('usage: OpenAI cached tokens come out of prompt_tokens; Anthropic keeps message_start input across message_delta', () => {
  assert.deepEqual(openaiUsage({ prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } }),
    { inputTokens: 6, cacheReadTokens: 4, cacheWriteTokens: 0, outputTokens: 5, reasoningTokens: 2 });
  assert.deepEqual(openaiUsage(null), { inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 });
  const start = anthropicUsage({ input_tokens: 30, cache_creation_input_tokens: 5, cache_read_input_tokens: 7, output_tokens: 1 });
  assert.deepEqual(start, { inputTokens: 30, cacheReadTokens: 7, cacheWriteTokens: 5, outputTokens: 1, reasoningTokens: 0 });
  assert.deepEqual(anthropicUsage({ output_tokens: 90 }, start), { inputTokens: 30, cacheReadTokens: 7, cacheWriteTokens: 5, outputTokens: 90, reasoningTokens: 0 });
  const split = anthropicUsage({ input_tokens: 10, cache_creation_input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 30 }, output_tokens: 1 });
  assert.deepEqual(split, { inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 50, cacheWrite1hTokens: 30, outputTokens: 1, reasoningTokens: 0 });
  assert.equal(anthropicUsage({ output_tokens: 9 }, split).cacheWrite1hTokens, 30, 'kept across message_delta');
  assert.deepEqual(responsesUsage({ input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 } }),
    { inputTokens: 6, cacheReadTokens: 4, cacheWriteTokens: 0, outputTokens: 5, reasoningTokens: 2 });
  assert.deepEqual(openaiUsage({ prompt_tokens: -5, completion_tokens: 'x' }), { inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 });
});

test('addressInCidr: IPv4 and IPv4-mapped addresses only', () => {
  assert.equal(addressInCidr('10.231.0.2', '10.231.0.0/28'), true);
  assert.equal(addressInCidr('::ffff:10.231.0.14', '10.231.0.0/28'), true);
  assert.equal(addressInCidr('10.231.0.16', '10.231.0.0/28'), false);
  assert.equal(addressInCidr('::1', '10.231.0.0/28'), false);
  assert.equal(addressInCidr(undefined, '10.231.0.0/28'), false);
});

test('refusal bodies in each provider\'s shape', () => {
  assert.deepEqual(JSON.parse(refusalBody('openai-completions', 'budget', 'm')), { error: { message: 'm', type: 'insufficient_quota', code: 'budget_exceeded' } });
  assert.deepEqual(JSON.parse(refusalBody('anthropic-messages', 'budget', 'm')), { type: 'error', error: { type: 'rate_limit_error', message: 'm' } });
});

test('usage store: the budget sums it keeps per window follow every new call, as a fresh scan would', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-usage-'));
  try {
    const store = openUsageStore(join(dir, 'usage.db'));
    const day = { from: 1_000_000, to: 2_000_000 };
    const month = { from: 0, to: 9_000_000 };
    let n = 0;
    const call = (user: string, at: number, costUsd: number) => store.record({ requestId: `r${n++}`, user, provider: 'p', model: 'm', at, day: 'd', costUsd, inputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 1, reasoningTokens: 0 });
    call('alice', 1_500_000, 0.25);
    call('alice', 500_000, 1);
    assert.equal(store.spent(['alice'], day.from, day.to), 0.25);
    assert.equal(store.spent(['alice'], month.from, month.to), 1.25);
    call('alice', 1_600_000, 0.5); // counted in both windows it falls in
    call('alice', 2_500_000, 2); // only in the month
    call('bob', 1_700_000, 4); // not alice's
    assert.equal(store.record({ requestId: 'r0', user: 'alice', provider: 'p', model: 'm', at: 1_500_000, day: 'd', costUsd: 9, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 }), false);
    const scan = openUsageStore(join(dir, 'usage.db'), { readonly: true });
    for (const w of [day, month]) {
      assert.equal(store.spent(['alice'], w.from, w.to), scan.spent(['alice'], w.from, w.to));
      assert.equal(store.spent(['alice', 'bob'], w.from, w.to), scan.spent(['alice', 'bob'], w.from, w.to));
    }
    assert.equal(store.spent(['alice'], day.from, day.to), 0.75);
    // The next day: a new window, summed from the table once.
    call('alice', 2_100_000, 0.125);
    assert.equal(store.spent(['alice'], 2_000_000, 3_000_000), 2.125);
    scan.close();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage tap: only events that can carry usage are read, however the JSON is spaced', () => {
  const sse = (data: string, event?: string) => `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
  const openai = usageTap('openai-completions', true);
  assert.equal(openai.event(sse('{"choices":[{"delta":{"content":"the \\"usage\\": {x} of it"}}],"usage":null}')), true, 'text mentioning usage passes, unread');
  assert.equal(openai.usage(), undefined);
  assert.equal(openai.event(sse('{"choices": [], "usage" : { "prompt_tokens": 7, "completion_tokens": 3 }}')), false, 'the usage-only chunk ocm asked for is dropped');
  assert.deepEqual(openai.usage(), { inputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 3, reasoningTokens: 0 });
  const anthropic = usageTap('anthropic-messages', false);
  anthropic.event(sse('{"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}}', 'message_start'));
  anthropic.event(sse('{"type":"content_block_delta","delta":{"text":"\\"type\\":\\"message_delta\\""}}', 'content_block_delta'));
  anthropic.event(sse('{"type":"message_delta","usage":{"output_tokens":9}}', 'message_delta'));
  assert.deepEqual(anthropic.usage(), { inputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 9, reasoningTokens: 0 });
  const responses = usageTap('openai-responses', false);
  responses.event(sse('{"type":"response.output_text.delta","delta":"hi"}'));
  responses.event(sse('{"type":"response.completed","response":{"usage":{"input_tokens":4,"output_tokens":2}}}'));
  assert.deepEqual(responses.usage(), { inputTokens: 4, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 2, reasoningTokens: 0 });
});
