// The meter's pure parts: event splitting, usage shapes, source addresses, error bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseSplitter, addressInCidr, anthropicUsage, eventData, openaiUsage, refusalBody } from '@ocm/meter';

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
