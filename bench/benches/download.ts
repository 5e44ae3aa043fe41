// A 20 MB answer streamed through ocm's proxy, nginx (rendered and tuned
// confs) and direct: 4 downloads at once with curl, alternating sides, and
// the ocm proxy's peak memory while it carries them.
import { TARGET } from '../lib/context.js';
import { download, MB, type DownloadResult } from '../lib/curl-download.js';
import { measureSides, proxySides, sideNotes, summaryOf, throughputRows, type Side } from '../lib/proxy-sides.js';
import { mb, ocmRssRow, peakRssDuring } from '../lib/rss.js';
import { summarize } from '../lib/stats.js';
import type { Bench } from './types.js';

const SIZE_MB = 20;
const PARALLEL = 4;

export const downloadBench: Bench = {
  name: 'download',
  title: `download throughput, ${PARALLEL} x ${SIZE_MB} MB at once through the proxy`,
  async run(ctx) {
    const sides = await proxySides(ctx);
    const host = `${TARGET.name}.localhost`;
    const path = `/bench/bytes?mb=${SIZE_MB}`;
    const get = (s: Side) => download(s.port, host, path, PARALLEL, SIZE_MB * MB).catch((err: Error) => {
      throw new Error(`${s.name}: ${err.message}`);
    });
    const peaks: number[] = [];
    const results = await measureSides(ctx, sides.all, get, async (s): Promise<DownloadResult> => {
      if (s !== sides.ocm) return get(s);
      // Sampled often: a run through the proxy lasts well under a second.
      const { value, peakKb } = await peakRssDuring(sides.ocm.pid, get(s), 20);
      peaks.push(mb(peakKb));
      return value;
    });
    return {
      rows: [
        ...throughputRows(`MB/s, ${PARALLEL} x GET ${SIZE_MB} MB at once`, 'MB/s', sides, summaryOf(results, (r: DownloadResult) => r.mbps), 0.9),
        ocmRssRow(sides.ocm.kind, `peak RSS, ${PARALLEL} x ${SIZE_MB} MB downloads through it`, peaks),
      ],
      notes: [
        `curl --parallel --parallel-immediate --parallel-max ${PARALLEL} -H 'Host: ${host}' -o /dev/null http://127.0.0.1:PORT${path} (x${PARALLEL}): a run's MB/s is all bytes over the slowest transfer's time_total, MB = 2^20 bytes; ${ctx.reps} runs per side after one warm-up run, sides alternating; the ocm proxy's VmRSS sampled every 20 ms during its runs`,
        `the gateway writes the zeros as the socket takes them; the rendered conf has proxy_buffering off, the tuned conf keeps nginx's default (on)`,
        `MB/s of single transfers, median per side: ${sides.all.map((s) => `${s.name} ${summarize((results.get(s.name) as DownloadResult[]).flatMap((r) => r.each)).median.toFixed(0)}`).join(', ')}`,
        ...(await sideNotes(ctx, sides)),
      ],
    };
  },
};
