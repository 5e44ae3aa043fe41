// WebSocket echo load, run as its own process so it never shares an event
// loop with anything measured: N connections, each sending M messages one
// after another (the next once the echo arrived). Prints one JSON line.
//   node --import tsx bench/lib/ws-load.ts <port> <host> <connections> <messages> <bytes>
import WebSocket from 'ws';

interface Result { messages: number; ms: number; rate: number; errors: number }

async function main(): Promise<void> {
  const [port, host, conns, msgs, bytes] = process.argv.slice(2);
  const connections = Number(conns);
  const messages = Number(msgs);
  const payload = 'x'.repeat(Number(bytes));
  let errors = 0;
  const sockets = await Promise.all(
    Array.from({ length: connections }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: host as string }, perMessageDeflate: false, handshakeTimeout: 10_000 });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
    ),
  );
  const started = process.hrtime.bigint();
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let left = messages;
          // With ws's default binaryType ('nodebuffer') a message is one Buffer.
          ws.on('message', (data) => {
            if ((data as Buffer).toString() !== payload) errors++;
            if (--left === 0) return resolve();
            ws.send(payload);
          });
          ws.on('close', () => {
            if (left > 0) errors += left;
            resolve();
          });
          ws.send(payload);
        }),
    ),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000);
    setTimeout(() => { ws.terminate(); resolve(); }, 2000).unref();
  })));
  const total = connections * messages;
  const result: Result = { messages: total, ms, rate: (total / ms) * 1000, errors };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const watchdog = setTimeout(() => {
  process.stderr.write('ws-load: gave up after 120 s\n');
  process.exit(2);
}, 120_000);
main().then(
  () => clearTimeout(watchdog),
  (err: unknown) => {
    process.stderr.write(`ws-load: ${String(err)}\n`);
    process.exit(1);
  },
);
