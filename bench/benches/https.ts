// Small HTTPS responses through ocm's proxy with an admin-supplied
// certificate, nginx on ocm's rendered TLS confs, and nginx on the tuned conf
// with a tuning guide's TLS settings: the proxy bench's load and targets, over
// TLS, all with the same self-signed P-256 certificate.
import { TARGET, type Ctx } from '../lib/context.js';
import { againstTunedRows, healthzLoad, measureSides, nginxConfigs, ocmSideNote, summaryOf, wrkErrorsNote, type Side } from '../lib/proxy-sides.js';
import { compareRow } from '../lib/report.js';
import type { Bench, BenchOutput } from './types.js';

export const httpsBench: Bench = {
  name: 'https',
  title: 'proxy throughput over HTTPS, small responses, 64 connections',
  async run(ctx) {
    try {
      return await measure(ctx);
    } finally {
      await ctx.stopTls();
    }
  },
};

async function measure(ctx: Ctx): Promise<BenchOutput> {
  const proxy = await ctx.ocmTlsProxy();
  const rendered = await ctx.renderedTlsNginx();
  const tunedNginx = await ctx.tunedTlsNginx();
  const ocm = { name: `${proxy.kind} (HTTPS)`, kind: proxy.kind, pid: proxy.pid, port: proxy.port };
  const renderedSide: Side = { name: 'nginx (rendered TLS conf, 1 worker)', port: rendered.port };
  const tuned: Side = { name: 'nginx (tuned conf + TLS settings, 1 worker)', port: tunedNginx.port };
  const sides = [ocm, renderedSide, tuned];
  const seconds = ctx.quick ? 3 : 10;
  const host = `${TARGET.name}.localhost`;
  const load = healthzLoad(seconds, { tls: true });
  ctx.log('  warm-up: 2 s of load on each side');
  const results = await measureSides(ctx, sides, (s) => load(s, 2), (s) => load(s));
  const rps = summaryOf(results, (r) => r.rps);
  const p99 = summaryOf(results, (r) => r.p99Ms);
  // A new connection, so a full handshake, per request: what keep-alive hides above.
  ctx.log('  Connection: close, a handshake per request');
  const closing = await measureSides(ctx, sides, async () => undefined, healthzLoad(ctx.quick ? 2 : 5, { tls: true, headers: ['Connection: close'] }));
  const closeRps = summaryOf(closing, (r) => r.rps);
  const rows = [
    ...againstTunedRows(results, ocm, renderedSide, tuned),
    compareRow('req/s, GET /healthz', 'req/s', rps(ocm), renderedSide.name, rps(renderedSide), 'info', undefined),
    compareRow('p99 latency', 'ms', p99(ocm), renderedSide.name, p99(renderedSide), 'info', undefined),
    ...[ocm, renderedSide].map((s) => compareRow(`req/s, a connection per request, ${s.name}`, 'req/s', closeRps(s), tuned.name, closeRps(tuned), 'info', undefined)),
  ];
  const { root } = await ctx.tlsFleet();
  return {
    rows,
    notes: [
      `wrk -t2 -c64 -d${seconds}s --latency -H 'Host: ${host}' https://127.0.0.1:PORT/healthz, ${ctx.reps} runs per side after a 2 s warm-up, sides alternating; wrk keeps its 64 connections open (keep-alive), so the TLS handshakes are paid once per connection and amortised over thousands of requests: these rows weigh record encryption and the proxying, not the handshake`,
      `a connection per request: the same with -d${ctx.quick ? 2 : 5}s -H 'Connection: close', ${ctx.reps} runs per side, no warm-up; wrk resumes no sessions, so every request pays a full TLS handshake (ECDHE + ECDSA P-256) and a TCP connect`,
      'certificate: self-signed, EC P-256, CN alice.localhost, SAN alice.localhost and *.localhost, the same files for every side; wrk offers no ALPN, so nginx speaks HTTP/1.1 though the rendered confs say http2',
      wrkErrorsNote(sides, results),
      `with Connection: close, ${wrkErrorsNote(sides, closing)}`,
      `${renderedSide.name} reads (and ${ctx.fleetSize - 1} more users' confs of the same form):\n${nginxConfigs(rendered.dir)}`,
      `${tuned.name} reads:\n${nginxConfigs(tunedNginx.dir)}`,
      `${ocmSideNote(ctx, ocm)}; from a second root (${root.root}) with settings.tls naming the certificate and the fleet's users on the same ports, so the plain-HTTP sides' root and daemon stay as they are`,
    ],
  };
}
