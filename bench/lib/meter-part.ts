// One side of the meter bench in its own process, as in production: the
// provider stand-in (`provider <port>`) or the meter (`meter <port>
// <providerPort> <usage.db>`), so neither shares an event loop or a heap with
// the client that measures them.
import { createServer, type Server } from 'node:http';
import { meterKey } from '@ocm/core';
import { createMeterServer, openUsageStore, type MeterConfig } from '@ocm/meter';

export const METER_BENCH_SECRET = 'bench-secret';
export const meterBenchKey = (): string => meterKey(METER_BENCH_SECRET, 'alice');

const chunk = (text: string): string => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text } }] })}\n\n`;

/** A provider streaming `n` events of `size` bytes each, then usage when asked for. */
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

function meter(providerPort: number, db: string): Server {
  const store = openUsageStore(db);
  const config: MeterConfig = {
    providers: { p: { api: 'openai-completions', baseUrl: `http://127.0.0.1:${providerPort}/v1`, apiKey: 'sk-bench', models: ['m'], prices: { m: { input: 1, output: 1 } } } },
    timezone: 'UTC',
    users: new Map([['alice', { subnet: '127.0.0.0/28', limits: { own: undefined, group: undefined } }]]),
  };
  const server = createMeterServer({ config: () => config, secret: METER_BENCH_SECRET, store });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => { store.close(); process.exit(0); });
  });
  return server;
}

if (process.argv[1]?.endsWith('meter-part.ts') === true) {
  const [role, port, providerPort, db] = process.argv.slice(2);
  const server = role === 'meter' ? meter(Number(providerPort), db as string) : provider();
  if (role !== 'meter') process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
  server.listen(Number(port), '127.0.0.1');
}
