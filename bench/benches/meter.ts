// The model meter's cost on streamed answers: time to first token and
// throughput through the meter against calling the provider directly.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meterKey } from '@ocm/core';
import { createMeterServer, openUsageStore, type MeterConfig } from '@ocm/meter';
import { absoluteRow, compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

const SECRET = 'bench-secret';
const chunk = (text: string) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text } }] })}\n\n`;

/** A provider streaming `chunks` events of `bytes` each, then usage when asked for. */
function provider(): Server {
  return createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { n: number; size: number; stream_options?: { include_usage?: boolean } };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = chunk('x'.repeat(body.size));
      for (let i = 0; i < body.n; i++) res.write(piece);
      if (body.stream_options?.include_usage === true) res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: body.n } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
}

const listen = (server: Server): Promise<number> => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** Milliseconds to the first body byte and to the end, and bytes received. */
function stream(port: number, path: string, n: number, size: number, key?: string): Promise<{ first: number; total: number; bytes: number }> {
  const payload = JSON.stringify({ model: 'm', stream: true, messages: [], n, size });
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) } }, (res) => {
      let first = -1;
      let bytes = 0;
      res.on('data', (c: Buffer) => { if (first < 0) first = ms(); bytes += c.length; });
      res.on('end', () => resolve({ first, total: ms(), bytes }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;

export const meterBench: Bench = {
  name: 'meter',
  title: 'model meter: time to first token and streamed throughput',
  async run(ctx) {
    const upstream = provider();
    const upstreamPort = await listen(upstream);
    const store = openUsageStore(`${ctx.scratch('meter')}/usage.db`);
    const config: MeterConfig = {
      providers: { p: { api: 'openai-completions', baseUrl: `http://127.0.0.1:${upstreamPort}/v1`, apiKey: 'sk-bench', models: ['m'], prices: { m: { input: 1, output: 1 } } } },
      timezone: 'UTC',
      users: new Map([['alice', { subnet: '127.0.0.0/28', limits: { own: undefined, group: undefined } }]]),
    };
    const meter = createMeterServer({ config: () => config, secret: SECRET, store });
    const meterPort = await listen(meter);
    const key = meterKey(SECRET, 'alice');
    try {
      const calls = ctx.quick ? 100 : 500;
      const firsts = { direct: [] as number[], meter: [] as number[] };
      const rates = { direct: [] as number[], meter: [] as number[] };
      const sides = {
        direct: (n: number, size: number) => stream(upstreamPort, '/v1/chat/completions', n, size),
        meter: (n: number, size: number) => stream(meterPort, '/p/chat/completions', n, size, key),
      };
      for (const side of Object.values(sides)) for (let i = 0; i < 20; i++) await side(20, 32);
      await alternate(ctx.reps, (['direct', 'meter'] as const).map((name) => async () => {
        for (let i = 0; i < calls; i++) firsts[name].push((await sides[name](20, 32)).first);
        const big = await sides[name](ctx.quick ? 5000 : 20000, 1000);
        rates[name].push(big.bytes / 1e6 / (big.total / 1000));
      }));
      const p50 = (name: 'direct' | 'meter') => percentile(firsts[name], 0.5);
      const p99 = (name: 'direct' | 'meter') => percentile(firsts[name], 0.99);
      return {
        rows: [
          absoluteRow('added time to first token, p50', 'ms', summarize([p50('meter') - p50('direct')]), '< 2 ms', (m) => m < 2),
          compareRow('time to first token, p99', 'ms', summarize([p99('meter')]), 'direct', summarize([p99('direct')]), '<= 1.1x', (r) => r <= 1.1),
          compareRow('streamed throughput', 'MB/s', summarize(rates.meter), 'direct', summarize(rates.direct), 'info', undefined),
        ],
        notes: [`${calls} sequential streamed calls of 20 chunks per side and run, then one answer of ${ctx.quick ? 5000 : 20000} 1 KB chunks; the meter counts and records every call (SQLite, one transaction each); ${ctx.reps} runs per side, alternating`],
      };
    } finally {
      meter.closeAllConnections();
      upstream.closeAllConnections();
      await new Promise((r) => meter.close(r));
      await new Promise((r) => upstream.close(r));
      store.close();
    }
  },
};
