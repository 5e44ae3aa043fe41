// Reads the provider's usage out of a response as it passes: for streams event
// by event (dropping the usage-only chunk ocm asked for itself), for a plain
// JSON answer from its body.
import type { CallUsage, Provider } from '@ocm/core';
import { anthropicUsage, openaiUsage, responsesUsage } from './provider-usage.js';
import { eventData } from './sse-events.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

export interface UsageTap {
  /** Whether to pass this stream event on to the client. */
  event(event: string): boolean;
  /** A whole non-streamed JSON body. */
  body(json: unknown): void;
  usage(): CallUsage | undefined;
}

// Only an event that can carry usage is parsed: most of a stream is text
// deltas, and parsing each one cost the meter half its streamed throughput.
// A usage object (not `"usage": null`, which every chunk carries once usage
// is asked for) or Anthropic's message_start/message_delta.
const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const ANTHROPIC_USAGE_EVENT = /"type"\s*:\s*"message_(?:start|delta)"/;

export function usageTap(api: Provider['api'], stripUsageChunk: boolean): UsageTap {
  let usage: CallUsage | undefined;
  if (api === 'openai-completions') {
    return {
      event(event) {
        if (!USAGE_OBJECT.test(event)) return true;
        const data = obj(eventData(event));
        if (data.usage === undefined || data.usage === null) return true;
        usage = openaiUsage(data.usage);
        // The client did not ask for usage: drop the chunk that only carries it.
        return !(stripUsageChunk && Array.isArray(data.choices) && data.choices.length === 0);
      },
      body(json) { if (obj(json).usage !== undefined) usage = openaiUsage(obj(json).usage); },
      usage: () => usage,
    };
  }
  if (api === 'openai-responses') {
    // The stream's last event (response.completed, .incomplete or .failed) carries the response with its usage.
    const read = (response: unknown): void => { if (obj(response).usage !== undefined && obj(response).usage !== null) usage = responsesUsage(obj(response).usage); };
    return {
      event(event) {
        if (!USAGE_OBJECT.test(event)) return true;
        const data = obj(eventData(event));
        if (typeof data.type === 'string' && data.type.startsWith('response.')) read(data.response);
        return true;
      },
      body: read,
      usage: () => usage,
    };
  }
  return {
    event(event) {
      if (!ANTHROPIC_USAGE_EVENT.test(event)) return true;
      const data = obj(eventData(event));
      if (data.type === 'message_start') usage = anthropicUsage(obj(data.message).usage, usage);
      else if (data.type === 'message_delta') usage = anthropicUsage(data.usage, usage);
      return true;
    },
    body(json) { if (obj(json).usage !== undefined) usage = anthropicUsage(obj(json).usage); },
    usage: () => usage,
  };
}
