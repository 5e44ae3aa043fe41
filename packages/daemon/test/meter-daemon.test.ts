// The daemon runs the model meter once a provider is configured: a gateway's
// call is forwarded with the admin key, counted, served by GET /api/usage,
// and a cap writes one audit line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { meterKey, parseManifest, serializeManifest } from '@ocm/core';
import { ocm, tempDir } from '../../../test/helpers/cli.js';
import { startStandIn } from '../../meter/test/stand-in-provider.js';
import { callMeter } from '../../meter/test/meter-client.js';
import { startDaemon } from './support/daemon.js';

const COST = (800 * 1.25 + 200 * 0.125 + 500 * 10) / 1e6;

test('the daemon\'s meter: counted, reported by the admin API, capped with an audit line', async (t) => {
  const standIn = await startStandIn();
  t.after(() => standIn.close());
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  // Users' networks on loopback, so this test can call from "inside" alice's network without Docker.
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.network = { pool: '127.77.0.0/16', egress: { policy: 'open', allow: [], hostPorts: [] } };
  manifest.settings.admin.listen = '127.0.0.1:0';
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  const added = await ocm(['add', 'alice', '--no-start'], { root });
  assert.equal(added.code, 0, added.stderr);
  const withModels = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  withModels.settings.models = {
    listenPort: 18790, groups: {}, budget: { daily: COST * 1.5 },
    providers: { openai: { api: 'openai-completions', baseUrl: `${standIn.url}/v1`, apiKey: 'sk-admin-daemon', models: ['gpt-5'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } } },
  };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(withModels));

  const running = await startDaemon(t, root, { meterListen: { host: '127.0.0.1', port: 0 } });
  const port = running.daemon.meter.port();
  assert.ok(port !== undefined, 'the meter listens');
  const key = meterKey(readFileSync(`${root}/meter.secret`, 'utf8').trim(), 'alice');
  const call = () => callMeter(port, { from: '127.77.0.2', key, path: '/openai/chat/completions', body: { model: 'gpt-5', stream: true, messages: [] } });
  assert.equal((await call()).status, 200);
  assert.equal((await call()).status, 200);
  assert.equal((await call()).status, 429);
  assert.equal((await call()).status, 429);
  assert.equal(standIn.received[0]?.headers.authorization, 'Bearer sk-admin-daemon');

  const usage = await fetch(`${running.admin}/api/usage?user=alice`, { headers: { authorization: `Bearer ${running.token}` } });
  assert.equal(usage.status, 200);
  const { rows } = await usage.json() as { rows: Array<{ user: string; calls: number; costUsd: number; totalTokens: number }> };
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.calls, 2);
  assert.equal(rows[0]?.totalTokens, 3000);
  const status = await (await fetch(`${running.admin}/api/status`, { headers: { authorization: `Bearer ${running.token}` } })).json() as { users: Array<{ name: string; models?: { todayUsd: number; monthUsd: number; dailyBudget?: number } }> };
  const models = status.users.find((u) => u.name === 'alice')?.models;
  assert.equal(models?.todayUsd.toFixed(9), (2 * COST).toFixed(9), 'the status report shows today\'s spend');
  assert.equal(models?.monthUsd.toFixed(9), (2 * COST).toFixed(9));
  assert.equal(models?.dailyBudget, COST * 1.5);
  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; details: { scope: string } });
  const caps = audit.filter((a) => a.action === 'budget.reached');
  assert.equal(caps.length, 1);
  assert.equal(caps[0]?.target, 'alice');
  assert.equal(caps[0]?.details.scope, 'daily');
  assert.ok(!running.logs.join('').includes('sk-admin-daemon'), 'the admin key is never logged');
  assert.ok(!running.logs.join('').includes(key), 'nor the user\'s key');

  // Her key rotated through the API: the running meter refuses the old one at once and takes the new one
  // (429: known as alice, still over her budget).
  const rotated = await fetch(`${running.admin}/api/users/alice/meter-key/rotate`, { method: 'POST', headers: { authorization: `Bearer ${running.token}` } });
  assert.equal(rotated.status, 200);
  const reply = await rotated.text();
  assert.deepEqual(JSON.parse(reply), { name: 'alice', rotated: true });
  const config = JSON.parse(readFileSync(`${root}/users/alice/state/openclaw.json`, 'utf8')) as { models: { providers: { openai: { apiKey: string } } } };
  const fresh = config.models.providers.openai.apiKey;
  assert.notEqual(fresh, key);
  assert.ok(!reply.includes(fresh), 'the API does not show the key');
  assert.equal((await call()).status, 401, 'the old key is refused');
  const withFresh = await callMeter(port, { from: '127.77.0.2', key: fresh, path: '/openai/chat/completions', body: { model: 'gpt-5', stream: true, messages: [] } });
  assert.equal(withFresh.status, 429);
  const elsewhere = await callMeter(port, { from: '127.77.0.18', key: fresh, path: '/openai/chat/completions', body: { model: 'gpt-5', stream: true, messages: [] } });
  assert.equal(elsewhere.status, 401, 'the new key, too, only from her own network');
  const unknown = await fetch(`${running.admin}/api/users/carol/meter-key/rotate`, { method: 'POST', headers: { authorization: `Bearer ${running.token}` } });
  assert.equal(unknown.status, 404);
});
