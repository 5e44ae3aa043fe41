// `ocm daemon` resident memory under different node flags, to see what the
// daemon's RSS is made of: idle, under wrk and under WebSocket echo load.
// Usage: node --conditions=ocm-source --import tsx bench/tools/daemon-rss.ts [users] ['NODE_OPTIONS variant' ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup, runCleanup } from '../lib/cleanup.js';
import { buildCli } from '../lib/cli-build.js';
import { createContext, TARGET } from '../lib/context.js';
import { waitRoute } from '../lib/health.js';
import { mb, peakRssDuring, readRss } from '../lib/rss.js';
import { startService } from '../lib/service.js';
import { wrk } from '../lib/wrk.js';
import { wsEcho } from '../lib/ws.js';

const [usersArg, ...variants] = process.argv.slice(2);
const tmp = mkdtempSync(join(tmpdir(), 'ocm-bench-rss-'));
onCleanup(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
process.once('SIGINT', () => void runCleanup().then(() => process.exit(130)));
try {
  const ocmBin = await buildCli();
  const ctx = createContext({ quick: Number(usersArg ?? 50) < 50, reps: 1, runId: 'rss', ocmBin, daemonAvailable: true, tmp, log: console.error });
  const f = await ctx.running();
  const host = `${TARGET.name}.localhost`;
  for (const variant of variants.length > 0 ? variants : ['']) {
    const daemon = await startService('ocm daemon', process.execPath, [...variant.split(' ').filter(Boolean), ocmBin, '--root', f.root.root, 'daemon', '--log-level', 'warn'], {
      logFile: join(tmp, 'daemon.log'),
      ready: async () => { await waitRoute(f.root.proxyPort, host, 500); return true; },
    });
    await sleep(10_000);
    const idle = mb(readRss(daemon.pid).rssKb);
    const http = await peakRssDuring(daemon.pid, wrk({ port: f.root.proxyPort, host, path: '/healthz', seconds: 8, connections: 64, threads: 2 }));
    const ws = await peakRssDuring(daemon.pid, wsEcho(f.root.proxyPort, host, { connections: 64, messages: 500, bytes: 1024 }));
    await sleep(5000);
    const after = mb(readRss(daemon.pid).rssKb);
    console.log(`${(variant || '(defaults)').padEnd(40)} idle ${idle.toFixed(1)} MB  wrk peak ${mb(http.peakKb).toFixed(1)} MB (${http.value.rps.toFixed(0)} req/s)  ws peak ${mb(ws.peakKb).toFixed(1)} MB (${ws.value.rate.toFixed(0)} msg/s)  5 s later ${after.toFixed(1)} MB`);
    await daemon.stop();
  }
} finally {
  await runCleanup();
}
