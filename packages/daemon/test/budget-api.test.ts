// A user's model budget through the admin API: PATCH sets and removes it as
// `ocm set` does; a bad amount is one line of error, and ocm.yaml (the whole
// root) is left byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseManifest, serializeManifest } from '@ocm/core';
import { ocm, snapshot, tempDir } from '../../../test/helpers/cli.js';
import { startDaemon } from './support/daemon.js';

test('PATCH /api/users/:name sets, changes and removes a budget; bad amounts change nothing', { timeout: 60_000 }, async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  const base = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  base.settings.network = { pool: '127.79.0.0/16', egress: { policy: 'open', allow: [], hostPorts: [] } };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(base));
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = {
    listenPort: 18790, groups: {}, budget: { daily: 2 },
    providers: { openai: { api: 'openai-completions', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-admin-budget', models: ['gpt-5'], prices: {} } },
  };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));
  const { admin, token } = await startDaemon(t, root, { meterListen: { host: '127.0.0.1', port: 0 } });
  const patch = (body: unknown) => fetch(`${admin}/api/users/alice`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const budgetOf = () => parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8')).users[0]?.budget;

  let r = await patch({ dailyBudget: 0.5, monthlyBudget: '10' });
  assert.equal(r.status, 200, await r.clone().text());
  assert.deepEqual(budgetOf(), { daily: 0.5, monthly: 10 });
  r = await patch({ dailyBudget: '1.25' });
  assert.equal(r.status, 200);
  assert.deepEqual(budgetOf(), { daily: 1.25, monthly: 10 }, 'one amount changed, the other kept');

  const before = snapshot(root);
  for (const [body, code, message] of [
    [{ dailyBudget: -1 }, 'OCM_E_BUDGET_INVALID', /^dailyBudget: "-1" is not an amount of US dollars$/],
    [{ monthlyBudget: 'lots' }, 'OCM_E_BUDGET_INVALID', /^monthlyBudget: "lots" is not an amount of US dollars$/],
    [{ dailyBudget: '1e3' }, 'OCM_E_BUDGET_INVALID', /"1e3" is not an amount/],
    [{ dailyBudget: 5_000_000 }, 'OCM_E_BUDGET_INVALID', /"5000000" is not an amount/],
    [{ dailyBudget: true }, 'OCM_E_USAGE', /dailyBudget/],
    [{ dailyBudget: { usd: 1 } }, 'OCM_E_USAGE', /dailyBudget/],
    [{ budget: true }, 'OCM_E_USAGE', /budget/],
    [{ budget: false, dailyBudget: 1 }, 'OCM_E_USAGE', /^budget: false cannot be combined with dailyBudget or monthlyBudget$/],
  ] as const) {
    r = await patch(body);
    const error = await r.json() as { code: string; message: string; hint?: string };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(error.code, code, JSON.stringify(body));
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n/);
    assert.ok(error.hint !== undefined && error.hint !== '', 'with a hint');
  }
  assert.deepEqual(snapshot(root), before, 'refusals leave the root byte-identical');

  r = await patch({ budget: false });
  assert.equal(r.status, 200);
  assert.equal(budgetOf(), undefined, 'the default applies again');
  const shown = await (await fetch(`${admin}/api/users/alice`, { headers: { authorization: `Bearer ${token}` } })).json() as Record<string, unknown>;
  assert.match(JSON.stringify(shown), /"daily":2/, 'the API shows the default budget in force');
});
