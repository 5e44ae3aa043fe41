// "Can alice use it": /healthz first, then a browser's first request. The
// real gateway's refusal (403 with {"error":{"type":...}}) reads as
// "refusing", with the type and a fix; a slow page is not a verdict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateManifest } from '@ocm/core';
import { judgeUi, refusesBrowsers, type ProbeResult, type ProxyTarget, type UiProbeTarget } from '@ocm/engine';
import { probeUsable, proxyTarget, usableFix } from '../src/usable.js';

const REAL_403 = '{"error":{"message":"Proxy client attribution is required. Configure gateway.trustedProxies narrowly and make the proxy overwrite or safely rebuild forwarded client headers.","type":"proxy_attribution_required"}}';

test('the answer to a browser\'s first request is judged by status and type', () => {
  assert.deepEqual(judgeUi(200, 'text/html; charset=utf-8', '<!doctype html>'), { ok: true, detail: 'served' });
  assert.deepEqual(judgeUi(403, 'application/json; charset=utf-8', REAL_403), { ok: false, detail: 'HTTP 403 proxy_attribution_required' });
  assert.deepEqual(judgeUi(403, 'application/json', '{"ok":false,"error":"origin_not_allowed"}'), { ok: false, detail: 'HTTP 403 origin_not_allowed' });
  assert.deepEqual(judgeUi(200, 'application/json', '{}'), { ok: false, detail: 'HTTP 200' });
  assert.equal(refusesBrowsers({ ok: false, detail: 'HTTP 403 proxy_attribution_required' }), true);
  assert.equal(refusesBrowsers({ ok: false, detail: 'HTTP 502' }), false);
  assert.equal(refusesBrowsers({ ok: false, detail: 'ETIMEDOUT' }), false);
});

test('probeUsable: healthz down, refusing with its fix, served, and a slow page still healthy', async () => {
  const manifest = validateManifest({ settings: { domain: 'example.com' }, users: [{ name: 'alice', port: 18800 }] });
  const seen: UiProbeTarget[] = [];
  const probes = (health: ProbeResult, ui: ProbeResult) => ({
    health: () => Promise.resolve(health),
    ui: (target: UiProbeTarget) => { seen.push(target); return Promise.resolve(ui); },
  });
  const ok = { ok: true, detail: 'HTTP 200 ok' };
  assert.deepEqual(await probeUsable(manifest, 'alice', 18800, probes({ ok: false, detail: 'ECONNREFUSED' }, ok)), { health: 'unhealthy', detail: '/healthz: ECONNREFUSED' });
  assert.equal(seen.length, 0, 'no page load while /healthz fails');
  const refusing = await probeUsable(manifest, 'alice', 18800, probes(ok, { ok: false, detail: 'HTTP 403 proxy_attribution_required' }));
  assert.deepEqual(refusing, { health: 'refusing', detail: 'up, but refusing browsers: HTTP 403 proxy_attribution_required' });
  assert.match(usableFix('alice', refusing.detail), /^ocm up alice .*trustedProxies/);
  assert.deepEqual(seen[0], { hostPort: 18800, host: 'alice.example.com', proto: 'http' });
  assert.equal((await probeUsable(manifest, 'alice', 18800, probes(ok, { ok: true, detail: 'served' }))).health, 'healthy');
  assert.equal((await probeUsable(manifest, 'alice', 18800, probes(ok, { ok: false, detail: 'ETIMEDOUT' }))).health, 'healthy');
});

test('probeUsable asks the configured proxy first, as the browser does, and says when it is not there', async () => {
  const manifest = validateManifest({ settings: { domain: 'example.com', proxy: { listen: '0.0.0.0:8080' } }, users: [{ name: 'alice', port: 18800 }] });
  const ok = { ok: true, detail: 'HTTP 200 ok' };
  const seen: Array<[ProxyTarget, string]> = [];
  const probes = (via: ProbeResult & { unreachable?: boolean }, ui: ProbeResult = { ok: true, detail: 'served' }) => ({
    health: () => Promise.resolve(ok),
    ui: () => Promise.resolve(ui),
    proxy: (target: ProxyTarget, host: string) => { seen.push([target, host]); return Promise.resolve(via); },
  });
  assert.deepEqual(await probeUsable(manifest, 'alice', 18800, probes({ ok: true, detail: 'served' })), { health: 'healthy', detail: 'the Control UI is served through the proxy (http://127.0.0.1:8080)' });
  assert.deepEqual(seen[0], [{ address: '127.0.0.1', port: 8080, tls: false }, 'alice.example.com']);
  assert.deepEqual(await probeUsable(manifest, 'alice', 18800, probes({ ok: false, detail: 'HTTP 403 proxy_attribution_required' })), { health: 'refusing', detail: 'up, but refusing browsers: HTTP 403 proxy_attribution_required' });
  const noRoute = await probeUsable(manifest, 'alice', 18800, probes({ ok: false, detail: 'HTTP 503' }));
  assert.deepEqual(noRoute, { health: 'refusing', detail: 'up, but the proxy (http://127.0.0.1:8080) answers alice.example.com with HTTP 503' });
  assert.match(usableFix('alice', noRoute.detail), /^the proxy has no working route to alice/);
  // No proxy listening: the gateway is asked directly, and the detail says what a browser would meet.
  assert.deepEqual(await probeUsable(manifest, 'alice', 18800, probes({ ok: false, detail: 'ECONNREFUSED', unreachable: true })), { health: 'healthy', detail: 'the Control UI is served; the proxy (http://127.0.0.1:8080) does not answer (ECONNREFUSED)' });
  assert.equal((await probeUsable(manifest, 'alice', 18800, probes({ ok: false, detail: 'ECONNREFUSED', unreachable: true }, { ok: false, detail: 'HTTP 403 origin_not_allowed' }))).health, 'refusing');
});

test('proxyTarget: the embedded listen address or nginx, HTTPS when a certificate is set', () => {
  const tls = { certificate: '/etc/ssl/c.pem', key: '/etc/ssl/k.pem' };
  assert.deepEqual(proxyTarget(validateManifest({ settings: { proxy: { listen: '127.0.0.5:9000' } } })), { address: '127.0.0.5', port: 9000, tls: false });
  assert.deepEqual(proxyTarget(validateManifest({ settings: { proxy: { listen: ':80' }, tls } })), { address: '127.0.0.1', port: 80, tls: true });
  const acme = { email: 'admin@your-ai.com' };
  assert.deepEqual(proxyTarget(validateManifest({ settings: { proxy: { listen: ':80', listenTls: ':443' }, tls: { acme } } })), { address: '127.0.0.1', port: 443, tls: true });
  assert.deepEqual(proxyTarget(validateManifest({ settings: { proxy: { mode: 'nginx', nginx: { httpPort: 8081 } } } })), { address: '127.0.0.1', port: 8081, tls: false });
  assert.deepEqual(proxyTarget(validateManifest({ settings: { proxy: { mode: 'nginx', nginx: { listenAddress: '10.0.0.2', httpsPort: 8443 } }, tls } })), { address: '10.0.0.2', port: 8443, tls: true });
});
