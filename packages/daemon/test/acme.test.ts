// The daemon with settings.tls.acme against a real ACME CA (Pebble): alice's
// certificate issued at start and served by SNI, bob's ordered as soon as
// `ocm add bob` changes ocm.yaml (no restart), the status page and
// /api/tls showing both, a forced renewal through the API, `ocm tls`, and
// bob's name served no more once he is removed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, hasChromium } from '../../../test/support/browser.js';
import { freePort } from '../../../test/support/docker.js';
import { servedSerial, startPebble } from '../../../test/support/pebble.js';
import { waitFor } from '../../../test/support/wait.js';
import { startDaemon } from './support/daemon.js';
import { tlsApi, type TlsHost } from './support/tls-api.js';
import { cli, makeRoot } from './support/root.js';

/** Signs in to the status page in Chromium and reads one element's text. */
async function statusPageShows(t: TestContext, admin: string, token: string, selector: string, text: RegExp): Promise<void> {
  if (!hasChromium) return t.diagnostic(`no browser at ${CHROMIUM}: status page not checked`);
  const profile = mkdtempSync(join(tmpdir(), 'ocm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${admin}/`);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(`${admin}/`), page.click('button[type=submit]')]);
    await page.waitForSelector(selector);
    assert.match((await page.textContent(selector)) ?? '', text);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

test('daemon: ACME certificates for users at start and added live, renewed through the API', { timeout: 180_000 }, async (t) => {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const pebble = await startPebble(t, { httpPort });
  const { root } = await makeRoot(t, {
    edit: (yaml) => yaml
      .replace(/domain: [^\n]+/, 'domain: your-ai.com')
      .replace('tls: {}', `tls:\n    acme:\n      email: admin@your-ai.com\n      directory: ${pebble.directory}\n      caFile: ${pebble.apiCaFile}`)
      .replace(/(proxy:\n(?:[^\n]*\n)*? {4}listen: )[^\n]+/, `$1127.0.0.1:${httpPort}\n    listenTls: 127.0.0.1:${httpsPort}`),
  });
  await cli(root, 'add', 'alice');
  const daemon = await startDaemon(t, root, { watchPollMs: 100 });
  const { addresses, admin, token, logs } = daemon;
  assert.equal(addresses.proxy?.proto, 'https');
  assert.equal(addresses.proxy?.port, httpsPort);
  const ca = readFileSync(pebble.rootFile);
  const { call: api, certified } = tlsApi(daemon);

  const alice = await certified('alice.your-ai.com');
  assert.match(alice.issuer ?? '', /Pebble/);
  assert.equal(await servedSerial(httpsPort, 'alice.your-ai.com', ca), alice.serial);
  assert.ok(logs.some((l) => l.includes('certificate issued') && l.includes('alice.your-ai.com')));

  await cli(root, 'add', 'bob', '--no-start');
  const bob = await certified('bob.your-ai.com');
  assert.equal(await servedSerial(httpsPort, 'bob.your-ai.com', ca), bob.serial);

  const status = (await (await fetch(`${admin}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { tls?: TlsHost[]; users: Array<{ name: string; url: string; health: string; healthDetail?: string }> };
  const aliceStatus = status.users.find((u) => u.name === 'alice');
  assert.equal(aliceStatus?.health, 'healthy', aliceStatus?.healthDetail);
  assert.match(aliceStatus?.healthDetail ?? '', new RegExp(`through the proxy \\(https://127\\.0\\.0\\.1:${httpsPort}\\)`));
  assert.deepEqual(status.tls?.map((h) => h.host), ['alice.your-ai.com', 'bob.your-ai.com']);
  assert.equal(status.users.find((u) => u.name === 'alice')?.url, `https://alice.your-ai.com:${httpsPort}`);

  await statusPageShows(t, admin, token, 'tr[data-user="alice"] small.cert', /^certificate \d+d left$/);

  const renewed = await api('/api/tls/renew', { names: ['alice'], force: true });
  assert.notEqual(renewed.hosts[0]?.serial, alice.serial);
  assert.equal(await servedSerial(httpsPort, 'alice.your-ai.com', ca), renewed.hosts[0]?.serial);

  const listed = JSON.parse(await cli(root, 'tls', '--json')) as { hosts: TlsHost[] };
  assert.deepEqual(listed.hosts.map((h) => [h.host, h.serial]), [['alice.your-ai.com', renewed.hosts[0]?.serial], ['bob.your-ai.com', bob.serial]]);

  // bob removed: his name gets no certificate any more; alice is untouched.
  await cli(root, 'remove', 'bob');
  await waitFor(async () => (await api('/api/tls')).hosts.length === 1, { what: 'bob dropped from the certificates' });
  await assert.rejects(servedSerial(httpsPort, 'bob.your-ai.com', ca));
  assert.equal(await servedSerial(httpsPort, 'alice.your-ai.com', ca), renewed.hosts[0]?.serial);
});
