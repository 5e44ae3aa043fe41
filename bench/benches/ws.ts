// WebSocket echo messages/s through ocm's proxy, nginx and direct.
import { TARGET } from '../lib/context.js';
import { compareRow } from '../lib/report.js';
import { alternate, summarize } from '../lib/stats.js';
import { wsEcho, type WsLoad } from '../lib/ws.js';
import { proxySides, type Side } from './proxy.js';
import type { Bench } from './types.js';

export const wsBench: Bench = {
  name: 'ws',
  title: 'WebSocket echo messages/s through the proxy',
  async run(ctx) {
    const { ocm, others } = await proxySides(ctx);
    const load: WsLoad = ctx.quick ? { connections: 16, messages: 300, bytes: 64 } : { connections: 32, messages: 1000, bytes: 64 };
    const host = `${TARGET.name}.localhost`;
    const sides = [ocm, ...others];
    const rates = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (const s of sides) await wsEcho(s.port, host, { ...load, messages: Math.ceil(load.messages / 4) });
    await alternate(ctx.reps, sides.map((s) => async () => {
      (rates.get(s.name) as number[]).push((await wsEcho(s.port, host, load)).rate);
    }));
    const rate = (name: string) => summarize(rates.get(name) as number[]);
    const [nginxAuto] = others;
    return {
      rows: [
        compareRow('echo msg/s', 'msg/s', rate(ocm.name), (nginxAuto as Side).name, rate((nginxAuto as Side).name), '>= 0.6', (r) => r >= 0.6),
        ...others.slice(1).map((o) => compareRow('echo msg/s', 'msg/s', rate(ocm.name), o.name, rate(o.name), 'info', undefined)),
      ],
      notes: [
        `${load.connections} connections x ${load.messages} messages of ${load.bytes} bytes, each connection sending the next message when the echo arrives (ws client in its own process); ${ctx.reps} runs per side after a warm-up, alternating`,
      ],
    };
  },
};
