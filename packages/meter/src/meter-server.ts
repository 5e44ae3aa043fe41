// The model meter: a user's own key, from the user's own network, to a
// configured provider only, within budget; everything else is refused in the
// provider's error shape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { budgetDecision, budgetWindows, callCost, type BudgetWindows, localDay, meterKeyUser, type BudgetDecision, type BudgetLimits, type CallUsage, type MeterKeyVersions, type Provider } from '@ocm/core';
import type { MeterConfig } from './meter-config.js';
import { forwardCall } from './forward-call.js';
import { refuse } from './provider-error.js';
import { addressInCidr } from './source-address.js';
import type { UsageStore } from './usage-store.js';

export interface MeterLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface MeterOptions {
  /** The current configuration; read for every call. */
  config: () => MeterConfig;
  /** Root secret the users' meter keys derive from. */
  secret: string;
  /** Each rotated user's current key version, read for every call (none: no user was rotated). */
  keyVersions?: () => Promise<MeterKeyVersions>;
  store: UsageStore;
  now?: () => number;
  maxBodyBytes?: number;
  log?: MeterLog;
  /** A user reached a cap (once per user, cap and window). */
  onCap?: (user: string, decision: Extract<BudgetDecision, { allowed: false }>) => void;
}

const PATHS: Record<Provider['api'], readonly string[]> = {
  'openai-completions': ['chat/completions'],
  'openai-responses': ['responses'],
  'anthropic-messages': ['v1/messages', 'messages'],
};

const quiet: MeterLog = { info: () => undefined, warn: () => undefined };

function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : undefined;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return resolve(undefined);
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { req.removeAllListeners('data'); req.resume(); resolve(undefined); return; }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export function meterHandler(options: MeterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? Date.now;
  const log = options.log ?? quiet;
  const limit = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const capsSeen = new Set<string>();
  // The day's and month's bounds change at local midnight only: worked out
  // (with Intl, a few percent of a call) once a day, not on every call.
  let bounds: { timezone: string; windows: BudgetWindows; day: string } | undefined;
  const boundsAt = (t: number, timezone: string): NonNullable<typeof bounds> => {
    if (bounds === undefined || bounds.timezone !== timezone || t < bounds.windows.day.start || t >= bounds.windows.day.end) {
      bounds = { timezone, windows: budgetWindows(t, timezone), day: localDay(t, timezone) };
    }
    return bounds;
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.warn({ err: (error as Error).message }, 'meter call failed');
      refuse(res, 500, undefined, 'upstream', 'the model meter failed on this call');
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const config = options.config();
    const match = /^\/([a-z][a-z0-9-]{0,31})\/([a-z0-9/]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const providerId = match?.[1] ?? '';
    const provider = Object.hasOwn(config.providers, providerId) ? config.providers[providerId] : undefined;
    if (match === null || provider === undefined || !PATHS[provider.api].includes(match[2] ?? '') || req.method !== 'POST') {
      return refuse(res, 404, provider?.api, 'not_found', `the model meter serves POST /<provider>/${provider === undefined ? '...' : PATHS[provider.api][0]} for the configured providers only`);
    }
    const key = presentedKey(req);
    const name = key === undefined ? undefined : meterKeyUser(options.secret, key, await options.keyVersions?.());
    const user = name === undefined ? undefined : config.users.get(name);
    if (name === undefined || user === undefined || !addressInCidr(req.socket.remoteAddress, user.subnet)) {
      log.warn({ provider: providerId, user: name, from: req.socket.remoteAddress }, 'meter key refused');
      return refuse(res, 401, provider.api, 'auth', 'this key is not valid here: each user\'s meter key works only from their own gateway');
    }
    const body = await readBody(req, limit);
    if (body === undefined) return refuse(res, 413, provider.api, 'too_large', `the request is larger than the meter's limit of ${limit} bytes`);
    let request: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      request = parsed as Record<string, unknown>;
    } catch {
      return refuse(res, 400, provider.api, 'invalid', 'the request body is not a JSON object');
    }
    const model = request.model;
    if (typeof model !== 'string' || !provider.models.includes(model)) {
      return refuse(res, 400, provider.api, 'invalid', `model ${JSON.stringify(model)} is not offered by ${providerId} here (ask the admin to add it to settings.models)`);
    }
    const decision = decide(config, name, user.limits);
    if (!decision.allowed) return refuseOverBudget(res, provider.api, name, decision, config.timezone);

    let stripUsageChunk = false;
    let upstreamBody = body;
    if (provider.api === 'openai-completions' && request.stream === true) {
      const streamOptions = (request.stream_options ?? {}) as Record<string, unknown>;
      if (streamOptions.include_usage !== true) {
        stripUsageChunk = true;
        upstreamBody = Buffer.from(JSON.stringify({ ...request, stream_options: { ...streamOptions, include_usage: true } }));
      }
    }
    const started = now();
    forwardCall({
      provider, path: match[2] ?? '', body: upstreamBody, clientHeaders: req.headers, stripUsageChunk, res,
      done: (usage) => { if (usage !== undefined) count(name, providerId, model, usage, started); },
    });
  }

  function decide(config: MeterConfig, name: string, limits: BudgetLimits): BudgetDecision {
    const t = now();
    const { windows } = boundsAt(t, config.timezone);
    const group = limits.group?.members ?? [];
    const spent = {
      userDay: options.store.spent([name], windows.day.start, windows.day.end),
      userMonth: options.store.spent([name], windows.month.start, windows.month.end),
      groupDay: group.length === 0 ? 0 : options.store.spent(group, windows.day.start, windows.day.end),
      groupMonth: group.length === 0 ? 0 : options.store.spent(group, windows.month.start, windows.month.end),
    };
    return budgetDecision(limits, spent, windows, t);
  }

  function refuseOverBudget(res: ServerResponse, api: Provider['api'], name: string, decision: Extract<BudgetDecision, { allowed: false }>, timezone: string): void {
    const seen = `${name}|${decision.scope}|${decision.resetAt}`;
    if (!capsSeen.has(seen)) {
      capsSeen.add(seen);
      log.info({ user: name, scope: decision.scope, limit: decision.limit, spent: decision.spent }, 'model budget reached');
      options.onCap?.(name, decision);
    }
    const message = `${name} has used $${decision.spent.toFixed(2)} of the $${decision.limit.toFixed(2)} ${decision.scope} model budget; it resets at ${new Date(decision.resetAt).toISOString()} (${timezone} midnight)`;
    refuse(res, 429, api, 'budget', message, { 'retry-after': String(decision.retryAfterSeconds) });
  }

  function count(name: string, providerId: string, model: string, usage: CallUsage, started: number): void {
    // Priced now, with the rates in force when the call is written.
    const config = options.config();
    const at = now();
    const costUsd = callCost(usage, config.providers[providerId]?.prices[model]);
    options.store.record({ requestId: randomUUID(), user: name, provider: providerId, model, at, day: boundsAt(at, config.timezone).day, costUsd, ...usage });
    log.info({ user: name, provider: providerId, model, ms: at - started, ...usage, costUsd }, 'model call counted');
  }
}

/** A meter server on one address (the daemon runs one per user network). */
export function createMeterServer(options: MeterOptions): Server {
  return serveMeter(meterHandler(options));
}

export function serveMeter(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(handler);
  server.headersTimeout = 30_000;
  // Agent turns stream for minutes; the socket timeout, not a request one, bounds idleness.
  server.requestTimeout = 0;
  server.setTimeout(10 * 60_000);
  return server;
}
