// One metered call upstream: the admin's key instead of the user's, the
// response streamed back event by event, its usage handed to `done`.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { CallUsage, Provider } from '@ocm/core';
import { refuse } from './provider-error.js';
import { SseSplitter } from './sse-events.js';
import { usageTap } from './usage-tap.js';

// Only these client headers travel on; the rest (the user's key above all) stay behind.
const PASSED_HEADERS = ['content-type', 'accept', 'anthropic-version', 'anthropic-beta', 'user-agent', 'openai-beta'];
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade']);
const MAX_JSON_BYTES = 32 * 1024 * 1024;
const UPSTREAM_IDLE_MS = 10 * 60_000;

export interface ForwardInput {
  provider: Provider;
  path: string;
  body: Buffer;
  clientHeaders: IncomingMessage['headers'];
  stripUsageChunk: boolean;
  res: ServerResponse;
  /** Called once, when the upstream answer ends, with its usage (undefined: none reported or an error status). */
  done(usage: CallUsage | undefined): void;
}

function upstreamHeaders(input: ForwardInput): Record<string, string> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'content-length': String(input.body.length) };
  for (const name of PASSED_HEADERS) {
    const value = input.clientHeaders[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (input.provider.api === 'anthropic-messages') headers['x-api-key'] = input.provider.apiKey;
  else headers.authorization = `Bearer ${input.provider.apiKey}`;
  return headers;
}

export function forwardCall(input: ForwardInput): void {
  const url = new URL(`${input.provider.baseUrl.replace(/\/+$/, '')}/${input.path}`);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  let finished = false;
  const finish = (usage: CallUsage | undefined): void => {
    if (finished) return;
    finished = true;
    input.done(usage);
  };
  const upstream = send(url, { method: 'POST', headers: upstreamHeaders(input) }, (answer) => relay(input, answer, finish));
  // A provider silent this long is given up (a reasoning model may think for minutes between events).
  upstream.setTimeout(UPSTREAM_IDLE_MS, () => upstream.destroy(new Error(`no answer for ${UPSTREAM_IDLE_MS / 1000} s`)));
  upstream.on('error', (error) => {
    finish(undefined);
    refuse(input.res, 502, input.provider.api, 'upstream', `the model provider could not be reached (${error.message})`);
  });
  upstream.end(input.body);
}

function relay(input: ForwardInput, answer: IncomingMessage, finish: (usage: CallUsage | undefined) => void): void {
  const { res } = input;
  const status = answer.statusCode ?? 502;
  const ok = status >= 200 && status < 300;
  const streamed = /text\/event-stream/i.test(answer.headers['content-type'] ?? '');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
  }
  // An error passes through unchanged, length included.
  if (!ok && answer.headers['content-length'] !== undefined) headers['content-length'] = answer.headers['content-length'];
  res.writeHead(status, headers);
  const tap = usageTap(input.provider.api, input.stripUsageChunk);
  const splitter = new SseSplitter();
  const decoder = new StringDecoder('utf8');
  const json: Buffer[] = [];
  let jsonBytes = 0;
  // The client may leave mid-answer: the upstream is still read to its end so
  // the call is counted (the provider bills it either way).
  let clientGone = false;
  res.on('close', () => { if (!res.writableFinished) clientGone = true; });
  const write = (chunk: string | Buffer): void => {
    if (clientGone) return;
    if (!res.write(chunk)) {
      answer.pause();
      res.once('drain', () => answer.resume());
    }
  };
  res.on('close', () => answer.resume());
  answer.on('data', (chunk: Buffer) => {
    if (!ok) return write(chunk);
    if (!streamed) {
      if (jsonBytes + chunk.length <= MAX_JSON_BYTES) json.push(chunk);
      jsonBytes += chunk.length;
      return write(chunk);
    }
    // The events of one upstream read go out in one write (one chunk on the wire, not one per event).
    let out = '';
    for (const event of splitter.push(decoder.write(chunk))) if (tap.event(event)) out += event;
    if (out !== '') write(out);
  });
  answer.on('end', () => {
    if (ok && streamed) {
      const rest = splitter.rest() + decoder.end();
      if (rest !== '' && tap.event(rest)) write(rest);
    }
    if (ok && !streamed && jsonBytes <= MAX_JSON_BYTES) {
      try { tap.body(JSON.parse(Buffer.concat(json).toString('utf8'))); } catch { /* not JSON: nothing to count */ }
    }
    finish(ok ? tap.usage() : undefined);
    if (!clientGone) res.end();
  });
  answer.on('error', () => {
    finish(tap.usage());
    res.destroy();
  });
}
