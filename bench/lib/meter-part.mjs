// One side of the meter bench in its own process, as in production: the
// provider stand-in (`provider <port>`), the meter (`meter <port>
// <providerPort> <usage.db> <secret>`) or the smallest Node hop (`hop <port>
// <providerPort>`), so none shares an event loop or a
// heap with the client that measures them. Plain JavaScript on the built
// packages, as the daemon runs them (no TypeScript loader in the process).
import { Agent, createServer, request } from 'node:http';
import { createMeterServer, openUsageStore } from '@ocm/meter';

const chunk = (text) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text } }] })}\n\n`;

/** A provider streaming `n` events of `size` bytes each, then usage when asked for. */
function provider() {
  return createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const piece = chunk('x'.repeat(body.size));
      for (let i = 0; i < body.n; i++) res.write(piece);
      if (body.stream_options?.include_usage === true) res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: body.n } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
}

function meter(providerPort, db, secret) {
  const store = openUsageStore(db);
  const config = {
    providers: { p: { api: 'openai-completions', baseUrl: `http://127.0.0.1:${providerPort}/v1`, apiKey: 'sk-bench', models: ['m'], prices: { m: { input: 1, output: 1 } } } },
    timezone: 'UTC',
    users: new Map([['alice', { subnet: '127.0.0.0/28', limits: { own: undefined, group: undefined } }]]),
  };
  const server = createMeterServer({ config: () => config, secret, store });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => { store.close(); process.exit(0); });
  });
  return server;
}

/**
 * What any proxy written in Node costs before it does anything: node:http in,
 * node:http out on a keep-alive agent, headers and bodies passed as they are.
 */
function hop(providerPort) {
  const agent = new Agent({ keepAlive: true });
  return createServer((req, res) => {
    const path = req.url.replace(/^\/p\//, '/v1/');
    const out = request({ host: '127.0.0.1', port: providerPort, path, method: req.method, headers: req.headers, agent }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
}

{
  const [role, port, providerPort, db, secret] = process.argv.slice(2);
  const server = role === 'meter' ? meter(Number(providerPort), db, secret) : role === 'hop' ? hop(Number(providerPort)) : provider();
  if (role !== 'meter') process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
  server.listen(Number(port), '127.0.0.1');
}
