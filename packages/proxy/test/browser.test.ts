import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createEmbeddedProxy, StaticRouteTable, type EmbeddedProxy } from '@ocm/proxy';
import { startFakeGateway, type FakeGateway } from './fake-gateway.js';

const CHROMIUM = process.env.OCM_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = await access(CHROMIUM).then(
  () => true,
  () => false,
);

describe('a real browser on *.localhost', { skip: hasChromium ? false : `no browser at ${CHROMIUM}` }, () => {
  let alice: FakeGateway;
  let bob: FakeGateway;
  let proxy: EmbeddedProxy;
  let port: number;
  let browser: Browser;

  before(async () => {
    alice = await startFakeGateway('alice');
    bob = await startFakeGateway('bob');
    const routes = new StaticRouteTable([
      ['alice.localhost', { user: 'alice', port: alice.port, upstreamHost: '127.0.0.1', state: 'up' }],
      ['bob.localhost', { user: 'bob', port: bob.port, upstreamHost: '127.0.0.1', state: 'up' }],
    ]);
    proxy = await createEmbeddedProxy({ routes });
    ({ port } = await proxy.listen({ port: 0 }));
    // launch() gives every run a fresh, throwaway profile.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await alice?.close();
    await bob?.close();
  });

  for (const user of ['alice', 'bob']) {
    it(`loads ${user}.localhost and talks to ${user}'s gateway over a WebSocket on /`, async () => {
      const page = await browser.newPage();
      try {
        const response = await page.goto(`http://${user}.localhost:${port}/page`);
        assert.equal(response?.status(), 200);
        const result = await page.evaluate('window.result');
        assert.deepEqual(result, { who: user, origin: `http://${user}.localhost:${port}`, echo: `${user}:from the browser` });
      } finally {
        await page.close();
      }
    });
  }

  it('shows the not-configured page for an unknown subdomain', async () => {
    const page = await browser.newPage();
    try {
      const response = await page.goto(`http://carol.localhost:${port}/`);
      assert.equal(response?.status(), 404);
      assert.match(await page.textContent('body') ?? '', /carol\.localhost is not configured/);
    } finally {
      await page.close();
    }
  });
});
