// The model meter through bin/ocm: budgets set and refused, and the admin's
// provider key nowhere but ocm.yaml while each gateway gets its own meter key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meterKey, parseManifest, serializeManifest } from '@ocm/core';
import { openUsageStore } from '@ocm/meter';
import { ocm, snapshot, tempDir } from './helpers/cli.js';

const ADMIN_KEY = 'sk-admin-never-in-a-container-0123456789';

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const path = join(dir, e);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

test('budgets with ocm set, and openclaw.json pointing at the meter with the user\'s own key', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  for (const name of ['alice', 'bob']) assert.equal((await ocm(['add', name, '--no-start'], { root })).code, 0);
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = {
    listenPort: 18790, groups: {}, budget: { daily: 2 },
    providers: { openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKey: ADMIN_KEY, models: ['gpt-5'], prices: { 'gpt-5': { input: 1.25, output: 10 } } } },
  };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));

  let r = await ocm(['set', 'alice', '--daily-budget', '0.5', '--monthly-budget', '10'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8')).users[0]?.budget, { daily: 0.5, monthly: 10 });

  const config = JSON.parse(readFileSync(`${root}/users/alice/state/openclaw.json`, 'utf8')) as { models: { providers: Record<string, { baseUrl: string; apiKey: string }> } };
  const secret = readFileSync(`${root}/meter.secret`, 'utf8').trim();
  assert.equal((statSync(`${root}/meter.secret`).mode & 0o777), 0o600);
  assert.deepEqual(config.models.providers.openai, { baseUrl: 'http://10.231.0.1:18790/openai', apiKey: meterKey(secret, 'alice'), api: 'openai-completions', models: [{ id: 'gpt-5', name: 'gpt-5' }] });
  for (const file of [...allFiles(`${root}/users`), `${root}/docker-compose.yml`, ...allFiles(`${root}/nginx`), `${root}/audit.log`]) {
    assert.ok(!readFileSync(file, 'utf8').includes(ADMIN_KEY), `${file} holds no admin key`);
  }

  r = await ocm(['show', 'alice'], { root });
  assert.match(r.stdout, /^budget: {3}\$0\.5 a day, \$10 a month \(own\)$/m);
  r = await ocm(['show', 'bob'], { root });
  assert.match(r.stdout, /^budget: {3}\$2 a day \(default\)$/m);
  r = await ocm(['set', 'alice', '--no-budget'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8')).users[0]?.budget, undefined);

  const before = snapshot(root);
  for (const [args, message] of [
    [['set', 'alice', '--daily-budget', 'lots'], /^error: --daily-budget: "lots" is not an amount of US dollars$/],
    [['set', 'alice', '--monthly-budget', '-3'], /^error: --monthly-budget: "-3" is not an amount of US dollars$/],
    [['set', 'alice', '--no-budget', '--daily-budget', '1'], /^error: --no-budget cannot be combined/],
  ] as const) {
    r = await ocm([...args], { root });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', message);
    assert.match(lines[1] ?? '', /^hint: /);
  }
  assert.deepEqual(snapshot(root), before, 'refusals leave the root byte-identical');
});

test('a provider removed from ocm.yaml leaves each openclaw.json; what the user wrote stays', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
  const provider = (baseUrl: string) => ({ api: 'openai-completions' as const, baseUrl, apiKey: ADMIN_KEY, models: ['gpt-5'], prices: {} });
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = { listenPort: 18790, groups: {}, providers: { openai: provider('https://api.openai.com/v1'), other: provider('https://models.example.test/v1') } };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  let r = await ocm(['set', 'alice', '--daily-budget', '1'], { root });
  assert.equal(r.code, 0, r.stderr);
  const file = `${root}/users/alice/state/openclaw.json`;
  type Config = { agents?: unknown; models?: { providers?: Record<string, unknown> } };
  const written = JSON.parse(readFileSync(file, 'utf8')) as Config;
  // The user adds a provider of their own and picks a default model.
  const own = { baseUrl: 'http://192.0.2.7:11434/v1', apiKey: 'users-own-key', api: 'openai-completions', models: [{ id: 'llama', name: 'llama' }] };
  writeFileSync(file, JSON.stringify({ ...written, agents: { defaults: { model: { primary: 'openai/gpt-5' } } }, models: { providers: { ...written.models?.providers, mine: own } } }, null, 2));

  const { openai: _removed, ...rest } = manifest.settings.models.providers;
  manifest.settings.models.providers = rest;
  manifest.users[0]!.budget = { daily: 1 };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  r = await ocm(['set', 'alice', '--daily-budget', '2'], { root });
  assert.equal(r.code, 0, r.stderr);
  let config = JSON.parse(readFileSync(file, 'utf8')) as Config;
  assert.deepEqual(Object.keys(config.models?.providers ?? {}), ['other', 'mine'], 'openai is gone, the user\'s own entry stays');
  assert.deepEqual(config.agents, { defaults: { model: { primary: 'openai/gpt-5' } } }, 'a default model the user chose is theirs');

  const noModels = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  delete noModels.settings.models;
  noModels.users[0]!.budget = undefined;
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(noModels));
  r = await ocm(['set', 'alice', '--memory', '1g'], { root });
  assert.equal(r.code, 0, r.stderr);
  config = JSON.parse(readFileSync(file, 'utf8')) as Config;
  assert.deepEqual(config.models?.providers, { mine: own }, 'models removed entirely: only the user\'s entry is left');
});

test('ocm usage: per user, day and model as a table, JSON or CSV; a bad date is refused', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  let r = await ocm(['usage'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^no model usage since \d{4}-\d{2}-\d{2}$/m);
  const store = openUsageStore(`${root}/usage.db`);
  const call = { provider: 'openai', model: 'gpt-5', inputTokens: 800, cacheReadTokens: 200, cacheWriteTokens: 0, outputTokens: 500, reasoningTokens: 0, costUsd: 0.006025 };
  const today = new Date().toISOString().slice(0, 10);
  store.record({ ...call, requestId: 'a', user: 'alice', at: Date.now(), day: today });
  store.record({ ...call, requestId: 'b', user: 'alice', at: Date.now(), day: today });
  store.record({ ...call, requestId: 'c', user: 'bob', at: Date.now(), day: today });
  store.record({ ...call, requestId: 'old', user: 'alice', at: Date.parse('2026-01-02'), day: '2026-01-02' });
  store.close();

  r = await ocm(['usage', 'alice', '--json'], { root });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ user: string; day: string; calls: number; totalTokens: number; costUsd: number }>;
  assert.deepEqual(rows.map((x) => [x.user, x.day, x.calls, x.totalTokens]), [['alice', today, 2, 3000]]);
  r = await ocm(['usage', '--csv', '--since', '2026-01-01'], { root });
  assert.equal(r.stdout.trim().split('\n')[0], 'user,day,provider,model,calls,inputTokens,cacheReadTokens,cacheWriteTokens,outputTokens,reasoningTokens,totalTokens,costUsd');
  assert.equal(r.stdout.trim().split('\n').length, 4);
  r = await ocm(['usage'], { root });
  assert.match(r.stdout, /^USER\s+DAY\s+MODEL/m);
  assert.match(r.stdout, /^total: \$0\.0181 since/m);
  r = await ocm(['usage', '--since', 'yesterday'], { root });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim(), 'error: --since: "yesterday" is not a date\nhint: use YYYY-MM-DD, e.g. --since 2026-12-01');
});

test('ocm token --meter --rotate: alice\'s new key in her openclaw.json, bob\'s untouched, one audit line, no key logged', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  for (const name of ['alice', 'bob']) assert.equal((await ocm(['add', name, '--no-start'], { root })).code, 0);
  const before = snapshot(root);
  let r = await ocm(['token', 'alice', '--meter', '--rotate'], { root });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim(), 'error: alice has no meter key: no model provider is configured in this root\nhint: configure a provider under settings.models.providers in ocm.yaml first; meter keys exist only while one is');
  assert.deepEqual(snapshot(root), before, 'a refused rotation leaves the root byte-identical');

  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = { listenPort: 18790, groups: {}, providers: { openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKey: ADMIN_KEY, models: ['gpt-5'], prices: {} } } };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  assert.equal((await ocm(['render'], { root })).code, 0);
  const keyOf = (name: string): string => (JSON.parse(readFileSync(`${root}/users/${name}/state/openclaw.json`, 'utf8')) as { models: { providers: { openai: { apiKey: string } } } }).models.providers.openai.apiKey;
  const secret = readFileSync(`${root}/meter.secret`, 'utf8').trim();
  const [alice0, bob0] = [keyOf('alice'), keyOf('bob')];
  assert.equal(alice0, meterKey(secret, 'alice'));
  r = await ocm(['token', 'alice', '--meter'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), alice0, 'shown as her gateway has it');

  const auditBefore = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').length;
  r = await ocm(['token', 'alice', '--meter', '--rotate'], { root });
  assert.equal(r.code, 0, r.stderr);
  const alice1 = keyOf('alice');
  assert.notEqual(alice1, alice0);
  assert.equal(r.stdout.trim(), alice1);
  assert.match(r.stderr, /^alice: new meter key written to her openclaw\.json; the meter refuses the old one from now on$/m);
  assert.equal(keyOf('bob'), bob0, 'bob keeps his key');
  assert.equal(statSync(`${root}/meter.keys`).mode & 0o777, 0o600);
  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n');
  assert.equal(audit.length, auditBefore + 1);
  const line = JSON.parse(audit.at(-1) ?? '{}') as { action: string; target: string };
  assert.deepEqual([line.action, line.target], ['meter-key.rotate', 'alice']);
  assert.ok(!audit.join('\n').includes(alice1) && !audit.join('\n').includes(alice0), 'no key in the audit log');

  // A later render keeps the rotated key; a second rotation never brings an old one back.
  assert.equal((await ocm(['set', 'alice', '--daily-budget', '1'], { root })).code, 0);
  assert.equal(keyOf('alice'), alice1);
  r = await ocm(['token', 'alice', '--meter', '--rotate'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(![alice0, alice1].includes(keyOf('alice')));

  r = await ocm(['token', 'carol', '--meter', '--rotate'], { root });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: .*carol/m);
});
