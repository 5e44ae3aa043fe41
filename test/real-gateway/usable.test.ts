// Health that means "alice can use it", on the real gateway: /healthz answers
// whatever the gateway's proxy settings are, so when her gateway stops
// trusting ocm's proxies (a tenant, or anything writing her openclaw.json,
// drops the bridge from gateway.trustedProxies; the gateway reloads it on its
// own) every browser gets 403 proxy_attribution_required while /healthz stays
// green. status, doctor and the admin API (the status page) must say
// "refusing", with the type and the fix, and `ocm up` must mend it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { startDaemon } from '../reliability/support/daemon.js';
import { record } from '../reliability/support/record.js';

interface Status { name: string; health: string; healthDetail?: string }

async function statusOf(root: string): Promise<Status> {
  const r = await ocm(['status', '--json'], { root });
  assert.equal(r.code, 0, r.stderr);
  const [alice] = JSON.parse(r.stdout) as Status[];
  assert.ok(alice !== undefined);
  return alice;
}

async function until(root: string, health: string, timeoutMs: number): Promise<{ status: Status; ms: number }> {
  const t0 = Date.now();
  let status = await statusOf(root);
  while (status.health !== health && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 500));
    status = await statusOf(root);
  }
  assert.equal(status.health, health, JSON.stringify(status));
  return { status, ms: Date.now() - t0 };
}

test('the real gateway: refusing browsers behind a green /healthz is "refusing" in status, doctor and the API; ocm up mends it', { timeout: 900_000 }, async (t) => {
  const { root, portBase, proxyPort, stopFirst } = await testRoot(t, { real: true });
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const added = await ocm(['add', 'alice'], { root, timeoutMs: 600_000 });
  assert.equal(added.code, 0, added.stderr);
  const figures: Record<string, unknown> = {};

  const before = await until(root, 'healthy', 60_000);
  // No daemon yet: the gateway serves the UI, and status says the proxy browsers need is not there.
  assert.equal(before.status.healthDetail, `the Control UI is served; the proxy (${proxy}) does not answer (ECONNREFUSED)`);

  // What a tenant can do from inside: her gateway's config is hers to write.
  const config = `${root}/users/alice/state/openclaw.json`;
  const json = JSON.parse(readFileSync(config, 'utf8')) as { gateway: { trustedProxies: string[] } };
  figures.trustedBefore = json.gateway.trustedProxies;
  json.gateway.trustedProxies = ['10.255.255.254'];
  writeFileSync(config, JSON.stringify(json, null, 2));

  const refusing = await until(root, 'refusing', 120_000);
  figures.detectedMs = refusing.ms;
  assert.equal(refusing.status.healthDetail, `up, but refusing browsers: HTTP 403 proxy_attribution_required; the proxy (${proxy}) does not answer (ECONNREFUSED)`);
  const healthz = await fetch(`http://127.0.0.1:${portBase}/healthz`);
  assert.deepEqual(await healthz.json(), { ok: true, status: 'live' }, '/healthz alone still says all is well');

  const table = await ocm(['status'], { root });
  assert.match(table.stdout, /alice +running +refusing /);
  assert.match(table.stdout, /^alice: up, but refusing browsers: HTTP 403 proxy_attribution_required; the proxy \(http:\/\/127\.0\.0\.1:\d+\) does not answer \(ECONNREFUSED\)\n {2}fix: ocm up alice /m);
  assert.match(table.stdout, /^note: nothing answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\), where browsers reach the users; `ocm daemon` runs the proxy/m);

  const doctor = await ocm(['doctor', '--json'], { root });
  assert.equal(doctor.code, 2, doctor.stderr);
  const usable = (JSON.parse(doctor.stdout) as Array<{ scope: string; check: string; ok: boolean; detail: string; fix?: string }>).find((f) => f.scope === 'alice' && f.check === 'usable');
  assert.ok(usable !== undefined && !usable.ok, JSON.stringify(usable));
  assert.match(usable.detail, /proxy_attribution_required/);
  assert.match(usable.fix ?? '', /^ocm up alice /);

  // With the daemon's proxy up, the same verdict comes through it, as a browser meets it.
  const daemon = await startDaemon(t, root, {}, stopFirst);
  try {
    const r = await fetch(`${daemon.addresses.admin.url}/api/status`, { headers: { authorization: `Bearer ${daemon.token}` } });
    const report = await r.json() as { users: Status[] };
    assert.deepEqual(report.users.map((u) => [u.name, u.health, u.healthDetail]), [['alice', 'refusing', 'up, but refusing browsers: HTTP 403 proxy_attribution_required']]);
    assert.equal((await statusOf(root)).healthDetail, 'up, but refusing browsers: HTTP 403 proxy_attribution_required');

    const up = await ocm(['up', 'alice'], { root });
    assert.equal(up.code, 0, up.stderr);
    const mended = await until(root, 'healthy', 120_000);
    figures.mendedMs = mended.ms;
    assert.equal(mended.status.healthDetail, `the Control UI is served through the proxy (${proxy})`);
    figures.trustedAfter = (JSON.parse(readFileSync(config, 'utf8')) as { gateway: { trustedProxies: string[] } }).gateway.trustedProxies;
    const again = await ocm(['doctor', '--json'], { root });
    const after = (JSON.parse(again.stdout) as Array<{ scope: string; check: string; ok: boolean; detail: string }>).find((f) => f.scope === 'alice' && f.check === 'usable');
    assert.equal(after?.ok, true, again.stdout.slice(0, 500));
    assert.match(after?.detail ?? '', /through the proxy/);
  } finally {
    await daemon.daemon.stop();
  }
  record(t, 'usable', figures);
});
