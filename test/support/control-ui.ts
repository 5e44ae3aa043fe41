// The Control UI as a user meets it, for real-gateway tests: a root on a real
// domain, its daemon serving the embedded proxy, and a browser that opens the
// UI, is asked to pair, is approved with `ocm devices` and connects.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Browser, Response } from 'playwright-core';
import { OCM_BIN, ocm } from '../helpers/cli.js';
import type { TestRoot } from '../helpers/ocm-root.js';
import { waitFor } from './wait.js';

export const DOMAIN = 'your-ai.test';

// A client on another machine, as the proxies would forward it (see GATEWAY.md).
const FORWARDED = { 'x-forwarded-for': '192.0.2.10', 'x-forwarded-proto': 'http' };

/** What a browser would get from a gateway's 127.0.0.1 port: the Control UI's HTML, and a live health answer. */
export async function controlUiServed(port: number, host: string): Promise<void> {
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.deepEqual(await health.json(), { ok: true, status: 'live' });
  const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { host, accept: 'text/html', ...FORWARDED } });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 200));
  assert.match(html, /data-openclaw-control-ui/);
}

export interface DeviceJson {
  pending: Array<{ requestId: string; deviceId: string; clientAddress: string }>;
  paired: Array<{ deviceId: string; clientAddress: string; connected: boolean }>;
}

export async function devices(root: string, user: string): Promise<DeviceJson> {
  const listed = await ocm(['devices', user, '--json'], { root });
  assert.equal(listed.code, 0, listed.stderr);
  return JSON.parse(listed.stdout) as DeviceJson;
}

/** Rewrites the manifest testRoot made: a real domain, the proxy on every address, free admin port. */
export function configure(root: TestRoot, edit: (text: string) => string): void {
  const path = `${root.root}/ocm.yaml`;
  writeFileSync(path, edit(readFileSync(path, 'utf8').replace('domain: localhost', `domain: ${DOMAIN}`)));
}

/** True once the daemon's plain-HTTP proxy routes the user's /healthz. */
function routesHealthz(proxyPort: number, user: string): () => Promise<boolean> {
  // fetch() drops a Host header; node:http sends it as given.
  return () => new Promise<boolean>((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: '/healthz', headers: { host: `${user}.${DOMAIN}:${proxyPort}` } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Starts `ocm daemon` on the root and waits until `ready` (default: the
 * user's /healthz routed over plain HTTP); it is stopped, and waited for,
 * before the root is taken down.
 */
export async function startDaemon(target: TestRoot, user = 'alice', ready = routesHealthz(target.proxyPort, user)): Promise<void> {
  const { root } = target;
  const child = spawn(process.execPath, [OCM_BIN, '--root', root, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  target.stopFirst(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`daemon exited: ${output}`);
    return await ready();
  }, { what: `daemon routing ${user}`, timeoutMs: 120_000 });
}

export interface Browsed {
  /** The TLS details Chromium saw for the page (null over plain HTTP). */
  security: Awaited<ReturnType<Response['securityDetails']>>;
  /** Every WebSocket URL the page opened. */
  webSockets: string[];
}

/** Opens the user's UI signed in, approves the pairing request it makes, and waits for it to connect. */
export async function browseAndPair(browser: Browser, url: string, root: string, user: string, expectedClient: string): Promise<Browsed> {
  const token = (await ocm(['token', user], { root })).stdout.trim();
  const page = await browser.newPage();
  const webSockets: string[] = [];
  page.on('websocket', (ws) => webSockets.push(ws.url()));
  try {
    const response = await page.goto(`${url}/#token=${token}`);
    assert.equal(response?.status(), 200, `GET ${url}/`);
    const security = await response.securityDetails();
    await page.getByText('Approve this browser').waitFor({ timeout: 120_000 });
    const before = await devices(root, user);
    const request = before.pending.find((d) => d.clientAddress === expectedClient);
    assert.ok(request, `a pending request from ${expectedClient}: ${JSON.stringify(before.pending)}`);
    const approved = await ocm(['devices', user, 'approve', request.requestId], { root });
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`approved ${user}'s request ${request.requestId}`));
    // The page notices the approval by itself, leaves the pairing screen and connects.
    await page.getByText('Approve this browser').waitFor({ state: 'detached', timeout: 120_000 });
    await waitFor(async () => (await devices(root, user)).paired.some((d) => d.deviceId === request.deviceId && d.connected), {
      what: `${user}'s browser from ${expectedClient} connected`,
      timeoutMs: 120_000,
    });
    assert.doesNotMatch(await page.textContent('body') ?? '', /proxy_attribution_required|Approve this browser/);
    return { security, webSockets };
  } finally {
    await page.close();
  }
}
