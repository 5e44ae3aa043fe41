// Each user's model spend over the last 30 days: the admin API serves the
// per-day series, and the status page draws it as an inline SVG chart with
// one bar per day that had calls, its figures in the chart's accessible name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { localDay, parseManifest, serializeManifest } from '@ocm/core';
import { openUsageStore } from '@ocm/meter';
import { ocm, tempDir } from '../../../test/helpers/cli.js';
import { hasChromium, launchBrowser } from '../../../test/support/browser.js';
import { startDaemon } from './support/daemon.js';

const DAY = 86_400_000;
const TZ = 'Europe/Berlin';

interface Series { user: string; totalUsd: number; days: Array<{ day: string; costUsd: number }> }

test('model spend per day: the admin API series and the status page chart', { skip: hasChromium ? false : 'no Chromium', timeout: 120_000 }, async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init', '--domain', 'example.test'], { root })).code, 0);
  const base = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  base.settings.network = { pool: '127.78.0.0/16', egress: { policy: 'open', allow: [], hostPorts: [] } };
  base.settings.timezone = TZ;
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(base));
  for (const name of ['alice', 'bob']) assert.equal((await ocm(['add', name, '--no-start'], { root })).code, 0);
  const manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  manifest.settings.models = {
    listenPort: 18790, groups: {},
    providers: { openai: { api: 'openai-completions', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-admin-chart', models: ['gpt-5'], prices: {} } },
  };
  writeFileSync(`${root}/ocm.yaml`, serializeManifest(manifest));

  // Calls on three days in the window (two on one day), one 40 days ago outside it.
  const now = Date.now();
  const store = openUsageStore(`${root}/usage.db`);
  const seeded: Array<[string, number, number]> = [['a', 0, 0.25], ['b', 0, 0.5], ['c', 2 * DAY, 1.25], ['d', 10 * DAY, 0.1], ['e', 40 * DAY, 9]];
  for (const [id, ago, costUsd] of seeded) {
    const at = now - ago;
    store.record({ requestId: id, user: 'alice', provider: 'openai', model: 'gpt-5', at, day: localDay(at, TZ), costUsd, inputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 1, reasoningTokens: 0 });
  }
  store.close();

  const { admin, token } = await startDaemon(t, root, { meterListen: { host: '127.0.0.1', port: 0 } });
  const get = (query: string) => fetch(`${admin}/api/usage/daily${query}`, { headers: { authorization: `Bearer ${token}` } });

  await t.test('GET /api/usage/daily: every day of the window, zeros included, in settings.timezone', async () => {
    const response = await get('?days=30');
    assert.equal(response.status, 200);
    const body = await response.json() as { timezone: string; days: number; users: Series[] };
    assert.equal(body.timezone, TZ);
    assert.deepEqual(body.users.map((u) => u.user), ['alice', 'bob']);
    const alice = body.users[0];
    assert.equal(alice?.days.length, 30);
    assert.equal(alice?.days[29]?.day, localDay(now, TZ), 'the last day is today');
    assert.deepEqual(alice?.days.filter((d) => d.costUsd > 0).map((d) => d.costUsd), [0.1, 1.25, 0.75]);
    assert.equal(alice?.totalUsd, 2.1);
    assert.equal(body.users[1]?.totalUsd, 0);
    const week = await (await get('?days=7&user=alice')).json() as { users: Series[] };
    assert.equal(week.users.length, 1);
    assert.equal(week.users[0]?.days.length, 7);
    assert.equal(week.users[0]?.totalUsd, 2);
  });

  await t.test('a bad number of days is refused in one line', async () => {
    for (const days of ['0', '367', 'abc', '-3', '1.5']) {
      const response = await get(`?days=${days}`);
      assert.equal(response.status, 400, days);
      const error = await response.json() as { code: string; message: string };
      assert.equal(error.code, 'OCM_E_USAGE', days);
      assert.doesNotMatch(error.message, /\n/);
    }
  });

  await t.test('the status page draws one bar per day with spend, figures in the chart\'s name', async () => {
    const browser = await launchBrowser(t);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${admin}/`);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(`${admin}/`), page.click('button[type=submit]')]);
    await page.waitForSelector('#spend');
    assert.equal(await page.locator('#spend tr[data-user="alice"] svg rect.bar').count(), 3);
    assert.equal(await page.locator('#spend tr[data-user="bob"] svg rect.bar').count(), 0);
    const chart = page.getByRole('img', { name: /alice's model spend, last 30 days/ });
    assert.equal(await chart.count(), 1);
    assert.match(await chart.locator('desc').textContent() ?? '', /^alice: \$2\.10 in the last 30 days, 3 days with calls, most \$1\.25 on \d{4}-\d{2}-\d{2}$/);
    const box = await page.locator('#spend tr[data-user="alice"] svg rect.bar').last().boundingBox();
    assert.ok(box !== null && box.height > 0 && box.width > 0, 'the bars are drawn');

    // A call counted while the page is open: the chart follows within a refresh or two.
    const more = openUsageStore(`${root}/usage.db`);
    const at = Date.now();
    more.record({ requestId: 'f', user: 'alice', provider: 'openai', model: 'gpt-5', at, day: localDay(at, TZ), costUsd: 2, inputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 1, reasoningTokens: 0 });
    more.close();
    await page.locator('#spend tr[data-user="alice"] desc', { hasText: /\$4\.10 in the last 30 days/ }).waitFor({ state: 'attached', timeout: 20_000 });
    assert.match(await page.getByRole('img', { name: /alice's model spend, last 30 days/ }).locator('desc').textContent() ?? '', /^alice: \$4\.10 in the last 30 days, 3 days with calls, most \$2\.75 on /);
    const unchanged = await page.evaluate(async () => (await fetch('/spend', { headers: { 'if-none-match': (await fetch('/spend')).headers.get('etag') ?? '' } })).status);
    assert.equal(unchanged, 304, 'an unchanged section is not sent again');
    assert.deepEqual(problems, [], 'no CSP or script errors');
  });
});
