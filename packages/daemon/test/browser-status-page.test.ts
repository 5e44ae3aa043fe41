// The status page in a real headless Chromium: a wrong token is refused, the
// right one shows every user, Restart brings a gateway back healthy, and a
// form on another origin cannot act with the admin's session.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { cli, makeRoot } from './support/root.js';

const CHROMIUM = process.env.OCM_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.OCM_STATUS_SCREENSHOT ?? '/tmp/ocm-status.png';

test('status page in Chromium: login, users, restart, stop, start, back up, CSRF', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}`, timeout: 150_000 }, async (t) => {
  const { root } = await makeRoot(t);
  await cli(root, 'add', 'alice');
  await cli(root, 'add', 'bob', '--memory', '512m', '--cpus', '1');
  const { admin, token, daemon } = await startDaemon(t, root);
  // One backup, so the page has a last-backup age to show.
  daemon.jobs.start(['alice']);
  await daemon.jobs.settle();
  const startedOf = async (name: string) =>
    (await httpJson<{ users: Array<{ name: string; startedAt?: string }> }>(`${admin}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json?.users.find((u) => u.name === name)?.startedAt;

  const profile = mkdtempSync(join(tmpdir(), 'ocm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 520 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  // One hook, in this order: Chromium writes into its profile until it is closed.
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));

  await t.test('a wrong token is refused with a message', async () => {
    await page.goto(`${admin}/`);
    await page.fill('#token', 'not-the-token');
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(response?.status(), 401);
    assert.match(await page.textContent('#login-error') ?? '', /not the admin token/);
    assert.deepEqual(await context.cookies(), []);
  });

  await t.test('the right token shows every user, healthy', async () => {
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(`${admin}/`), page.click('button[type=submit]')]);
    await page.waitForSelector('tr[data-user="alice"][data-health="healthy"]');
    await page.waitForSelector('tr[data-user="bob"][data-health="healthy"]');
    const [cookie] = await context.cookies();
    assert.equal(cookie?.name, 'ocm_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.ok(!page.url().includes(token) && !(await page.content()).includes(token), 'the token is not in the URL or page');
    const bob = await page.textContent('tr[data-user="bob"]');
    assert.match(bob ?? '', /running/);
    assert.match(bob ?? '', /512 MiB/);
    assert.match(bob ?? '', /of 1 CPU/);
    assert.match(await page.textContent('#meta') ?? '', /2 users · 2 healthy/);
    assert.match(await page.textContent('tr[data-user="alice"]') ?? '', /ok\s*\d+s ago/);
    assert.match(bob ?? '', /never/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    t.diagnostic(`screenshot: ${SCREENSHOT}`);
  });

  await t.test('Restart brings alice back healthy with a new start time', async () => {
    const before = await page.getAttribute('tr[data-user="alice"]', 'data-started');
    assert.ok(before !== null && before !== '');
    await page.click('tr[data-user="alice"] button[data-action="restart"]');
    // Polled from here: the page's CSP (rightly) refuses the string evaluation waitForFunction would need.
    const row = 'tr[data-user="alice"]';
    await waitFor(async () => (await page.getAttribute(row, 'data-health')) === 'healthy'
      && (await page.getAttribute(row, 'data-started')) !== before
      && !(await page.isDisabled(`${row} button`)), { timeoutMs: 60_000, intervalMs: 200, what: 'alice restarted and healthy on the page' });
    assert.notEqual(await startedOf('alice'), before);
  });

  const audited = (action: string, target: string) => readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { action: string; target?: string; actor: string })
    .filter((a) => a.action === action && a.target === target);

  await t.test('Stop takes bob down and Start brings him back healthy; both audited', async () => {
    const row = 'tr[data-user="bob"]';
    await page.click(`${row} button[data-action="stop"]`);
    await waitFor(async () => (await page.getAttribute(row, 'data-state')) === 'exited'
      && (await page.$(`${row} button[data-action="start"]:not([disabled])`)) !== null, { timeoutMs: 60_000, intervalMs: 200, what: 'bob stopped on the page, with a Start button' });
    assert.equal(await page.textContent(`${row} button[data-action="start"]`), 'Start');
    await page.click(`${row} button[data-action="start"]`);
    await waitFor(async () => (await page.getAttribute(row, 'data-health')) === 'healthy'
      && (await page.$(`${row} button[data-action="stop"]:not([disabled])`)) !== null, { timeoutMs: 60_000, intervalMs: 200, what: 'bob running and healthy again' });
    assert.equal(audited('user.stop', 'bob').length, 1);
    assert.equal(audited('user.start', 'bob').length, 1);
  });

  await t.test('Back up takes a backup of bob now, and the page says where', async () => {
    const row = 'tr[data-user="bob"]';
    assert.match(await page.textContent(row) ?? '', /never/);
    await page.click(`${row} button[data-action="backup"]`);
    let said = '';
    await waitFor(async () => /^bob: backed up to \S+bob-\S+-manual\.tar\.gz$/.test(said = await page.textContent('#notice') ?? ''), { timeoutMs: 90_000, intervalMs: 200, what: 'the page reports the backup' })
      .catch((error: Error) => { throw new Error(`${error.message}; the page said: ${JSON.stringify(said)}`); });
    await waitFor(async () => /ok\s*\d+s ago/.test(await page.textContent(row) ?? ''), { timeoutMs: 30_000, intervalMs: 200, what: "bob's last backup shown as ok" });
    assert.equal(audited('backup', 'bob').length, 1);
  });

  await t.test('a form on another origin cannot use the session', async () => {
    const bobBefore = await startedOf('bob');
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${admin}/api/users/bob/restart"><input name="x" value="1"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => evil.close(() => resolve())));
    const other = await context.newPage();
    // Another port is the same site, so SameSite=Strict still sends the cookie: the CSRF and origin checks must refuse.
    const refused = other.waitForResponse((r) => r.url() === `${admin}/api/users/bob/restart`);
    await other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const response = await refused;
    assert.equal(response.status(), 403);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'OCM_E_FORBIDDEN');
    assert.match(body.message, /refused/);
    await other.close();
    assert.equal(await startedOf('bob'), bobBefore, 'bob was not restarted');
  });

  await t.test('sign out ends the session', async () => {
    await Promise.all([page.waitForURL(`${admin}/`), page.click('header button[type=submit]')]);
    await page.waitForSelector('#token');
    const status = await page.evaluate(async () => (await fetch('/api/status')).status);
    assert.equal(status, 401);
  });

  assert.deepEqual(problems, [], 'no script or CSP errors in the page');
});
