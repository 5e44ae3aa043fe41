// Resident memory of ocm's long-running process with 50 users: idle, under
// HTTP load and under WebSocket load through its proxy.
import { setTimeout as sleep } from 'node:timers/promises';
import { TARGET } from '../lib/context.js';
import { absoluteRow } from '../lib/report.js';
import { mb, ocmRssRow, peakRssDuring, readAnonKb, readRss } from '../lib/rss.js';
import { summarize } from '../lib/stats.js';
import { wrk } from '../lib/wrk.js';
import { wsEcho } from '../lib/ws.js';
import type { Bench } from './types.js';

export const daemonMemoryBench: Bench = {
  name: 'daemon-mem',
  title: 'daemon memory with 50 users',
  async run(ctx) {
    const proxy = await ctx.ocmProxy();
    const host = `${TARGET.name}.localhost`;
    const idleWait = ctx.quick ? 3 : 15;
    ctx.log(`  ${proxy.kind}: ${idleWait} s idle, then RSS every second`);
    await sleep(idleWait * 1000);
    const idle: number[] = [];
    const idleAnon: number[] = [];
    for (let i = 0; i < (ctx.quick ? 3 : 10); i++) {
      idle.push(mb(readRss(proxy.pid).rssKb));
      idleAnon.push(mb(readAnonKb(proxy.pid)));
      await sleep(1000);
    }
    const http: number[] = [];
    const ws: number[] = [];
    for (let i = 0; i < ctx.reps; i++) {
      const h = await peakRssDuring(proxy.pid, wrk({ port: proxy.port, host, path: '/healthz', seconds: ctx.quick ? 3 : 10, connections: 64, threads: 2 }));
      http.push(mb(h.peakKb));
      const w = await peakRssDuring(proxy.pid, wsEcho(proxy.port, host, { connections: 64, messages: ctx.quick ? 200 : 1000, bytes: 1024 }));
      ws.push(mb(w.peakKb));
    }
    const hwm = mb(readRss(proxy.pid).hwmKb);
    const what = proxy.kind === 'ocm daemon' ? 'ocm daemon' : 'embedded proxy process (ocm daemon not available)';
    return {
      rows: [
        ocmRssRow(proxy.kind, 'RSS, idle', idle),
        absoluteRow(`${what} anonymous memory (RSS without shared file pages), idle`, 'MB', summarize(idleAnon), 'info', undefined),
        ocmRssRow(proxy.kind, 'peak RSS, wrk -c64 through it', http),
        ocmRssRow(proxy.kind, 'peak RSS, 64 WebSockets x 1 KiB echo', ws),
      ],
      notes: [`VmRSS from /proc every 100 ms during load; ${ctx.fleetSize} users routed and probed; VmHWM at the end ${hwm.toFixed(1)} MB`],
    };
  },
};
