// WebSocket echo messages/s through ocm's proxy, nginx (rendered and tuned
// confs) and direct.
import { TARGET } from '../lib/context.js';
import { measureSides, proxySides, sideNotes, summaryOf, throughputRows } from '../lib/proxy-sides.js';
import { wsEcho, type WsLoad, type WsResult } from '../lib/ws.js';
import type { Bench } from './types.js';

export const wsBench: Bench = {
  name: 'ws',
  title: 'WebSocket echo messages/s through the proxy',
  async run(ctx) {
    const sides = await proxySides(ctx);
    const load: WsLoad = ctx.quick ? { connections: 16, messages: 300, bytes: 64 } : { connections: 32, messages: 1000, bytes: 64 };
    const host = `${TARGET.name}.localhost`;
    const results = await measureSides(
      ctx,
      sides.all,
      (s) => wsEcho(s.port, host, { ...load, messages: Math.ceil(load.messages / 4) }),
      (s) => wsEcho(s.port, host, load),
    );
    return {
      rows: throughputRows('echo msg/s', 'msg/s', sides, summaryOf(results, (r: WsResult) => r.rate), 0.9),
      notes: [
        `${load.connections} connections x ${load.messages} messages of ${load.bytes} bytes, each connection sending the next message when the echo arrives (ws client in its own process); ${ctx.reps} runs per side after a warm-up, alternating`,
        ...(await sideNotes(ctx, sides)),
      ],
    };
  },
};
