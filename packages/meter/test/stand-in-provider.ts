// A stand-in model provider: OpenAI chat completions and responses (streamed
// and not) and Anthropic messages, each reporting usage, recording every request it gets.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received { path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }

export interface StandIn {
  url: string;
  received: Received[];
  /** Pause between streamed chunks. */
  delayMs: number;
  /** Answer the next calls with this status and body instead. */
  failWith: { status: number; body: string } | undefined;
  close(): Promise<void>;
}

export const OPENAI_USAGE = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 200 }, completion_tokens_details: { reasoning_tokens: 100 } };
export const RESPONSES_USAGE = { input_tokens: 1000, input_tokens_details: { cached_tokens: 200 }, output_tokens: 500, output_tokens_details: { reasoning_tokens: 100 }, total_tokens: 1500 };
export const ANTHROPIC_START_USAGE = { input_tokens: 300, cache_read_input_tokens: 100, cache_creation_input_tokens: 50, output_tokens: 1 };
export const ANTHROPIC_OUTPUT_TOKENS = 40;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sse = (data: unknown, event?: string) => `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

export async function startStandIn(): Promise<StandIn> {
  const state: Omit<StandIn, 'url' | 'close'> = { received: [], delayMs: 0, failWith: undefined };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
      state.received.push({ path: req.url ?? '', headers: req.headers, body });
      void answer(req.url ?? '', body, res).catch(() => res.destroy());
    });
  });
  async function answer(path: string, body: Record<string, unknown>, res: import('node:http').ServerResponse): Promise<void> {
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith.status, { 'content-type': 'application/json', 'x-request-id': 'upstream-req-1' });
      res.end(state.failWith.body);
      return;
    }
    const model = String(body.model);
    if (path.endsWith('/chat/completions')) {
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }], usage: OPENAI_USAGE }));
        return;
      }
      const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['Hel', 'lo', '!']) {
        res.write(sse({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: piece } }], ...(withUsage ? { usage: null } : {}) }));
        await sleep(state.delayMs);
      }
      if (withUsage) res.write(sse({ id: 'c1', object: 'chat.completion.chunk', model, choices: [], usage: OPENAI_USAGE }));
      res.end('data: [DONE]\n\n');
      return;
    }
    if (path.endsWith('/responses')) {
      const response = { id: 'resp_1', object: 'response', model, status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] }] };
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...response, usage: RESPONSES_USAGE }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse({ type: 'response.created', response: { ...response, status: 'in_progress', output: [], usage: null } }, 'response.created'));
      for (const piece of ['Hel', 'lo']) {
        res.write(sse({ type: 'response.output_text.delta', delta: piece }, 'response.output_text.delta'));
        await sleep(state.delayMs);
      }
      res.end(sse({ type: 'response.completed', response: { ...response, usage: RESPONSES_USAGE } }, 'response.completed'));
      return;
    }
    if (path.endsWith('/messages')) {
      const message = { id: 'm1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn' };
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...message, usage: { ...ANTHROPIC_START_USAGE, output_tokens: ANTHROPIC_OUTPUT_TOKENS } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse({ type: 'message_start', message: { ...message, content: [], usage: ANTHROPIC_START_USAGE } }, 'message_start'));
      await sleep(state.delayMs);
      res.write(sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }, 'content_block_delta'));
      await sleep(state.delayMs);
      res.write(sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: ANTHROPIC_OUTPUT_TOKENS } }, 'message_delta'));
      res.end(sse({ type: 'message_stop' }, 'message_stop'));
      return;
    }
    res.writeHead(404).end();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
