// The provider's own usage report, read into one shape. OpenAI counts cached
// tokens inside prompt_tokens and reasoning inside completion_tokens;
// Anthropic reports cache reads and writes beside input_tokens.
import type { CallUsage } from '@ocm/core';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** OpenAI's two shapes name the same counts differently: cached tokens inside the input, reasoning inside the output. */
function openaiShaped(usage: unknown, input: string, output: string): CallUsage {
  const u = obj(usage);
  const cached = num(obj(u[`${input}_details`]).cached_tokens);
  return {
    inputTokens: Math.max(0, num(u[input]) - cached),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    outputTokens: num(u[output]),
    reasoningTokens: num(obj(u[`${output}_details`]).reasoning_tokens),
  };
}

/** OpenAI chat completions: prompt_tokens and completion_tokens. */
export const openaiUsage = (usage: unknown): CallUsage => openaiShaped(usage, 'prompt_tokens', 'completion_tokens');

/** OpenAI Responses: input_tokens and output_tokens. */
export const responsesUsage = (usage: unknown): CallUsage => openaiShaped(usage, 'input_tokens', 'output_tokens');

/**
 * Anthropic: message_start carries the input side, message_delta the running
 * output total (and, on newer API versions, the input side again); a field a
 * later event leaves out keeps the earlier value.
 */
export function anthropicUsage(usage: unknown, previous?: CallUsage): CallUsage {
  const u = obj(usage);
  // The split of cache writes by lifetime, where the API version reports it.
  const hourWrites = num(obj(u.cache_creation).ephemeral_1h_input_tokens) || (previous?.cacheWrite1hTokens ?? 0);
  return {
    inputTokens: num(u.input_tokens) || (previous?.inputTokens ?? 0),
    cacheReadTokens: num(u.cache_read_input_tokens) || (previous?.cacheReadTokens ?? 0),
    cacheWriteTokens: num(u.cache_creation_input_tokens) || (previous?.cacheWriteTokens ?? 0),
    ...(hourWrites > 0 ? { cacheWrite1hTokens: hourWrites } : {}),
    // message_delta's output_tokens is the running total, not an increment.
    outputTokens: num(u.output_tokens) || (previous?.outputTokens ?? 0),
    reasoningTokens: 0,
  };
}
