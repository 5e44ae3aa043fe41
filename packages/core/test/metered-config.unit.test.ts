// The gateway's side of the meter: providers planned on the user's own bridge
// address, merged into openclaw.json next to whatever the user wrote, without
// the admin's key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeGatewayConfig, planDeployment, validateManifest } from '@ocm/core';

const manifest = validateManifest({
  settings: { models: { listenPort: 18790, providers: { openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-admin-secret', models: ['gpt-5'] } } } },
  users: [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }],
});

test('each user reaches the meter on their own bridge gateway address', () => {
  const plan = planDeployment(manifest, { root: '/opt/ocm', envFiles: new Map() });
  assert.deepEqual(plan.users.map((u) => u.meteredProviders), [
    [{ id: 'openai', api: 'openai-completions', baseUrl: 'http://10.231.0.1:18790/openai', models: ['gpt-5'] }],
    [{ id: 'openai', api: 'openai-completions', baseUrl: 'http://10.231.0.17:18790/openai', models: ['gpt-5'] }],
  ]);
  assert.ok(!JSON.stringify(plan).includes('sk-admin-secret'), 'the admin key is nowhere in the plan');
  const none = planDeployment(validateManifest({ users: [{ name: 'alice', port: 18800 }] }), { root: '/opt/ocm', envFiles: new Map() });
  assert.equal(none.users[0]?.meteredProviders, undefined);
});

test('the merge adds ocm\'s providers, keeps the user\'s own ones and settings, and is idempotent', () => {
  const mine = { baseUrl: 'http://10.231.0.1:18790/openai', apiKey: 'ocm-meter-alice.x', api: 'openai-completions', models: [{ id: 'gpt-5', name: 'gpt-5' }] };
  const existing = JSON.stringify({ agents: { defaults: { model: { primary: 'openai/gpt-5' } } }, models: { mode: 'merge', providers: { local: { baseUrl: 'http://x' }, openai: { baseUrl: 'old' } } } });
  const keys = { allowedOrigins: ['https://alice.localhost'], trustedProxies: ['10.231.0.1'], modelProviders: { openai: mine } };
  const text = mergeGatewayConfig(existing, keys);
  assert.ok(text !== undefined);
  const doc = JSON.parse(text) as { agents: unknown; models: { mode: string; providers: Record<string, unknown> } };
  assert.deepEqual(doc.models.providers, { local: { baseUrl: 'http://x' }, openai: mine });
  assert.equal(doc.models.mode, 'merge');
  assert.deepEqual(doc.agents, { defaults: { model: { primary: 'openai/gpt-5' } } });
  assert.equal(mergeGatewayConfig(text, keys), undefined, 'a second merge changes nothing');
  const plain = mergeGatewayConfig(undefined, { allowedOrigins: ['o'], trustedProxies: ['p'] });
  assert.ok(plain !== undefined && !plain.includes('models'), 'no meter, no models key');
});

test('a provider that left the manifest: ocm\'s entry goes, the user\'s own entries, order and default model stay', () => {
  const entry = (id: string) => ({ baseUrl: `http://10.231.0.1:18790/${id}`, apiKey: 'ocm-meter-alice.x', api: 'openai-completions', models: [{ id: 'm', name: 'm' }] });
  const base = { allowedOrigins: ['https://alice.localhost'], trustedProxies: ['10.231.0.1'] };
  const existing = JSON.stringify({
    agents: { defaults: { model: { primary: 'openai/m' } } },
    models: { mode: 'merge', providers: { openai: entry('openai'), local: { baseUrl: 'http://x', apiKey: 'mine' }, claude: entry('claude') } },
    gateway: { controlUi: { allowedOrigins: base.allowedOrigins }, trustedProxies: base.trustedProxies },
  });
  const one = mergeGatewayConfig(existing, { ...base, modelProviders: { claude: entry('claude') } });
  assert.ok(one !== undefined);
  const doc = JSON.parse(one) as { agents: unknown; models: { mode: string; providers: Record<string, unknown> } };
  assert.deepEqual(Object.keys(doc.models.providers), ['local', 'claude']);
  assert.equal(doc.models.mode, 'merge');
  assert.deepEqual(doc.agents, { defaults: { model: { primary: 'openai/m' } } }, 'the default model is the user\'s: ocm never set it');
  assert.equal(mergeGatewayConfig(one, { ...base, modelProviders: { claude: entry('claude') } }), undefined, 'then idempotent');

  // models removed entirely: every entry of ocm's goes, the user's stays.
  const none = JSON.parse(mergeGatewayConfig(one, base) as string) as { models: { providers: Record<string, unknown> } };
  assert.deepEqual(none.models.providers, { local: { baseUrl: 'http://x', apiKey: 'mine' } });
  // Only ocm's entries: nothing empty left behind.
  const onlyOurs = JSON.stringify({ models: { providers: { openai: entry('openai') } } });
  const cleared = JSON.parse(mergeGatewayConfig(onlyOurs, base) as string) as Record<string, unknown>;
  assert.equal(cleared.models, undefined);
  const kept = JSON.parse(mergeGatewayConfig(JSON.stringify({ models: { mode: 'merge', providers: { openai: entry('openai') } } }), base) as string) as Record<string, unknown>;
  assert.deepEqual(kept.models, { mode: 'merge' });
});

test('a config restored from another root: that root\'s meter entries go, this root\'s come in, the user\'s own stay', () => {
  const base = { allowedOrigins: ['https://alice.target.test'], trustedProxies: ['10.120.0.1'] };
  // As the source root left it: its meter on its own bridge address, its key for alice.
  const source = { baseUrl: 'http://10.231.0.1:18790/openai', apiKey: 'ocm-meter-alice.source-mac', api: 'openai-completions', models: [{ id: 'gpt-5', name: 'gpt-5' }] };
  const sourceOnly = { ...source, baseUrl: 'http://10.231.0.1:18790/claude', api: 'anthropic-messages' };
  const own = { baseUrl: 'https://llm.example.test/v1', apiKey: 'sk-users-own', api: 'openai-completions', models: [{ id: 'm', name: 'm' }] };
  const restored = JSON.stringify({
    agents: { defaults: { model: { primary: 'openai/gpt-5' } } },
    gateway: { controlUi: { allowedOrigins: ['https://alice.source.test'] }, trustedProxies: ['10.231.0.1'] },
    models: { mode: 'merge', providers: { openai: source, mine: own, claude: sourceOnly } },
  });

  // A target that meters no models: nothing of the source's meter is left.
  const unmetered = JSON.parse(mergeGatewayConfig(restored, base) as string) as { models: { mode: string; providers: Record<string, unknown> }; agents: unknown };
  assert.deepEqual(unmetered.models, { mode: 'merge', providers: { mine: own } });
  assert.deepEqual(unmetered.agents, { defaults: { model: { primary: 'openai/gpt-5' } } });

  // A target that meters openai: its own entry, on its address with its key, in the source's place.
  const target = { ...source, baseUrl: 'http://10.120.0.1:18790/openai', apiKey: 'ocm-meter-alice.target-mac' };
  const metered = mergeGatewayConfig(restored, { ...base, modelProviders: { openai: target } });
  const doc = JSON.parse(metered as string) as { models: { providers: Record<string, unknown> } };
  assert.deepEqual(doc.models.providers, { openai: target, mine: own });
  assert.ok(!(metered as string).includes('source-mac') && !(metered as string).includes('10.231.0.1:18790'), 'no trace of the source meter');
  assert.equal(mergeGatewayConfig(metered, { ...base, modelProviders: { openai: target } }), undefined, 'then idempotent');
});

test('an imported config: the source root\'s origin and bridge address go, the user\'s own and this root\'s stay', () => {
  const restored = JSON.stringify({ gateway: { controlUi: { allowedOrigins: ['https://alice.a.test', 'https://mine.example'] }, trustedProxies: ['10.1.0.1', '192.0.2.9'], port: 18789 } });
  const text = mergeGatewayConfig(restored, { allowedOrigins: ['https://alice.b.test'], trustedProxies: ['10.2.0.1'], forget: { allowedOrigins: ['https://alice.a.test'], trustedProxies: ['10.1.0.1'] } }) as string;
  const gateway = (JSON.parse(text) as { gateway: { controlUi: { allowedOrigins: string[] }; trustedProxies: string[]; port: number } }).gateway;
  assert.deepEqual(gateway.controlUi.allowedOrigins, ['https://mine.example', 'https://alice.b.test']);
  assert.deepEqual(gateway.trustedProxies, ['192.0.2.9', '10.2.0.1']);
  assert.equal(gateway.port, 18789);
  const same = mergeGatewayConfig(text, { allowedOrigins: ['https://alice.b.test'], trustedProxies: ['10.2.0.1'], forget: { allowedOrigins: ['https://alice.b.test'], trustedProxies: ['10.2.0.1'] } });
  assert.equal(same, undefined, 'an entry both roots want is kept: the same origin and pool on both');
});
