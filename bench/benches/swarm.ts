// What a swarm user's relay costs: the same fixture gateway reached through
// a one-host root's container port and through a swarm root's relay (a Node
// TCP pipe on the manager, over her overlay), small GETs with wrk and 4 x 20
// MB downloads, sides alternating. The engine is made a single-node swarm
// for the bench when it is not one, and left again at the end.
import { onCleanup } from '../lib/cleanup.js';
import { createRoot } from '../lib/bench-root.js';
import { TARGET } from '../lib/context.js';
import { download, MB, type DownloadResult } from '../lib/curl-download.js';
import { healthzLoad, measureSides, summaryOf, wrkErrorsNote, type Side } from '../lib/proxy-sides.js';
import { run } from '../lib/proc.js';
import { compareRow } from '../lib/report.js';
import type { WrkResult } from '../lib/wrk.js';
import type { Bench } from './types.js';

const LIMITS = { cpus: TARGET.cpus, memory: TARGET.memory, pids: 512 };

async function ensureSwarm(): Promise<void> {
  const state = (await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])).stdout.trim();
  if (state === 'active true') return;
  const init = await run('docker', ['swarm', 'init'], { timeoutMs: 60_000 }).catch(() => undefined);
  if (init?.code !== 0) await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { timeoutMs: 60_000 });
  onCleanup('leave the swarm the bench made', async () => void (await run('docker', ['swarm', 'leave', '--force'], { timeoutMs: 60_000 })));
}

export const swarmBench: Bench = {
  name: 'swarm',
  title: 'a swarm user through her relay, against a container port',
  async run(ctx) {
    await ensureSwarm();
    const common = { portCount: 2, limits: LIMITS, runId: ctx.runId };
    const host = await createRoot(ctx.ocmBin, { ...common, project: 'benchsd', portBase: 14950, pool: '10.246.0.0/16' });
    const swarm = await createRoot(ctx.ocmBin, { ...common, project: 'benchsw', portBase: 14960, pool: '10.245.0.0/16', engine: 'swarm' });
    for (const root of [host, swarm]) {
      const added = await root.ocm(['add', TARGET.name], { timeoutMs: 300_000 });
      if (added.code !== 0) throw new Error(`ocm add on ${root.project}: ${added.stderr}`);
    }
    const direct: Side = { name: 'container port (docker engine)', port: host.portBase };
    const relay: Side = { name: 'relay (swarm engine)', port: swarm.portBase };
    const sides = [relay, direct];
    const seconds = ctx.quick ? 3 : 10;
    const load = healthzLoad(seconds);
    ctx.log('  warm-up: 2 s of load on each side');
    const small = await measureSides(ctx, sides, (s) => load(s, 2), (s) => load(s));
    const rps = summaryOf(small, (r: WrkResult) => r.rps);
    const p99 = summaryOf(small, (r: WrkResult) => r.p99Ms);
    const p50 = summaryOf(small, (r: WrkResult) => r.p50Ms);
    const hostName = `${TARGET.name}.localhost`;
    const get = (s: Side) => download(s.port, hostName, '/bench/bytes?mb=20', 4, 20 * MB);
    const big = await measureSides(ctx, sides, get, get);
    const mbps = summaryOf(big, (r: DownloadResult) => r.mbps);
    return {
      rows: [
        compareRow('req/s, GET /healthz', 'req/s', rps(relay), direct.name, rps(direct), 'info', undefined),
        compareRow('p50 latency', 'ms', p50(relay), direct.name, p50(direct), 'info', undefined),
        compareRow('p99 latency', 'ms', p99(relay), direct.name, p99(direct), 'info', undefined),
        compareRow('MB/s, 4 x GET 20 MB at once', 'MB/s', mbps(relay), direct.name, mbps(direct), 'info', undefined),
      ],
      notes: [
        `one fixture gateway each (${LIMITS.cpus} CPUs, ${LIMITS.memory}): a one-host root's container, published on 127.0.0.1, and a swarm root's service on a single-node swarm, reached through its relay container (node, TCP pipe) on 127.0.0.1; no proxy in front of either`,
        `wrk -t2 -c64 -d${seconds}s --latency -H 'Host: ${hostName}' http://127.0.0.1:PORT/healthz and curl 4 x 20 MB at once, ${ctx.reps} runs per side after a warm-up, sides alternating`,
        wrkErrorsNote(sides, small),
      ],
    };
  },
};
