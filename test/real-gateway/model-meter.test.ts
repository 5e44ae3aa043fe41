// The real gateway behind the model meter: an agent turn through the
// gateway's own /v1/chat/completions reaches the stand-in provider via the
// meter on alice's bridge address, with the admin's key, and is counted.
// Her meter key rotated: the gateway reloads it from openclaw.json without a
// restart, its next turn is metered again, and the old key is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { parseManifest, serializeManifest } from '@ocm/core';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { startDaemon } from '../reliability/support/daemon.js';
import { startStandIn } from '../../packages/meter/test/stand-in-provider.js';

function post(port: number, host: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', timeout: 240_000,
      headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ADMIN_KEY = 'sk-admin-real-gateway-0123456789';

test('the real gateway\'s agent calls the model through the meter, with the admin key, counted', { timeout: 900_000 }, async (t) => {
  const standIn = await startStandIn();
  t.after(() => standIn.close());
  const rt = await testRoot(t, { real: true });
  const { root, portBase, proxyPort } = rt;
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = {
    listenPort: portBase + 45, groups: {}, budget: { daily: 5 },
    providers: { meter: { api: 'openai-completions', baseUrl: `${standIn.url}/v1`, apiKey: ADMIN_KEY, models: ['gpt-5'], prices: { 'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 } } } },
  };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  const added = await ocm(['add', 'alice'], { root, timeoutMs: 600_000 });
  assert.equal(added.code, 0, added.stderr);

  const file = `${root}/users/alice/state/openclaw.json`;
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  assert.ok(!JSON.stringify(config).includes(ADMIN_KEY), 'the admin key is not in the gateway\'s config');
  config.agents = { ...(config.agents ?? {}), defaults: { model: { primary: 'meter/gpt-5' } } };
  config.gateway = { ...(config.gateway ?? {}), http: { endpoints: { chatCompletions: { enabled: true } } } };
  writeFileSync(file, JSON.stringify(config, null, 2));
  const restarted = await ocm(['restart', 'alice'], { root, timeoutMs: 600_000 });
  assert.equal(restarted.code, 0, restarted.stderr);

  const daemon = await startDaemon(t, root, {}, rt.stopFirst);
  rt.stopFirst(() => daemon.daemon.stop());
  const token = (await ocm(['token', 'alice'], { root })).stdout.trim();
  // Through the daemon's proxy, as a client of alice's subdomain: the gateway wants attributed clients.
  const answer = await post(proxyPort, `alice.localhost:${proxyPort}`, token, JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'say hello' }] }));
  const text = answer.text;
  assert.equal(answer.status, 200, text);
  const call = standIn.received.find((r) => r.path === '/v1/chat/completions');
  assert.ok(call !== undefined, `the agent's call reached the provider (got ${JSON.stringify(standIn.received.map((r) => r.path))})`);
  assert.equal(call.headers.authorization, `Bearer ${ADMIN_KEY}`);
  assert.equal(call.body.stream, true);
  const rows = daemon.daemon.meter.usage()?.report({ user: 'alice' }) ?? [];
  assert.ok((rows[0]?.calls ?? 0) >= 1, JSON.stringify(rows));
  assert.match(text, /Hello!/);
  process.stderr.write(`model meter, real gateway: ${rows[0]?.calls} call(s), $${rows[0]?.costUsd.toFixed(6)}\n`);

  type Providers = { models: { providers: { meter: { apiKey: string; baseUrl: string } } } };
  const { apiKey: oldKey, baseUrl } = (JSON.parse(readFileSync(file, 'utf8')) as Providers).models.providers.meter;
  const rotated = await ocm(['token', 'alice', '--meter', '--rotate'], { root });
  assert.equal(rotated.code, 0, rotated.stderr);
  const newKey = rotated.stdout.trim();
  assert.notEqual(newKey, oldKey);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Providers).models.providers.meter.apiKey, newKey);
  // Never a sync spawn here: the daemon, and so the meter, runs in this process.
  const run = promisify(execFile);
  const startedAt = async (): Promise<string> => (await run('docker', ['inspect', '-f', '{{.State.StartedAt}}', `${rt.project}-alice`])).stdout.trim();
  const started = await startedAt();
  // The old key, from inside alice's own container, where it was valid a moment ago.
  const probe = `fetch(${JSON.stringify(`${baseUrl}/chat/completions`)}, { method: 'POST', headers: { authorization: 'Bearer ${oldKey}', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5', messages: [] }) }).then((r) => console.log(r.status))`;
  const refused = await run('docker', ['exec', '-u', '1000', `${rt.project}-alice`, 'node', '-e', probe], { timeout: 60_000 });
  assert.equal(refused.stdout.trim(), '401', refused.stderr);
  // The gateway picks the new key up from the file on its own; a turn or two may still go out with the old one.
  const calls = () => standIn.received.filter((r) => r.path === '/v1/chat/completions').length;
  const before = calls();
  let again = { status: 0, text: '' };
  for (let attempt = 0; attempt < 20 && calls() === before; attempt++) {
    if (attempt > 0) await sleep(3000);
    again = await post(proxyPort, `alice.localhost:${proxyPort}`, token, JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'say hello again' }] }));
  }
  assert.equal(calls(), before + 1, `a turn after the rotation reached the provider (last answer ${again.status}: ${again.text.slice(0, 300)})`);
  assert.equal(again.status, 200, again.text);
  assert.match(again.text, /Hello!/);
  assert.equal(standIn.received.at(-1)?.headers.authorization, `Bearer ${ADMIN_KEY}`);
  assert.equal((daemon.daemon.meter.usage()?.report({ user: 'alice' }) ?? [])[0]?.calls, (rows[0]?.calls ?? 0) + 1);
  assert.equal(await startedAt(), started, 'no restart was needed');
});
