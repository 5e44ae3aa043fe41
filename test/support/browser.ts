// Headless Chromium (Debian's) for tests, with a throwaway profile, the flags
// this closed network needs, and host names mapped without DNS.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.OCM_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = await access(CHROMIUM).then(() => true, () => false);

export interface BrowserOptions {
  /** Another executable that starts Chromium, e.g. in a test host's namespace. */
  executablePath?: string;
  /** e.g. `MAP *.your-ai.test 127.0.0.1` */
  hostResolverRules?: string;
  /** HOME for the browser: where Chromium on Linux reads its NSS database (~/.pki/nssdb). */
  home?: string;
}

export const hasCertutil = await access('/usr/bin/certutil').then(() => true, () => false);

/**
 * A throwaway HOME whose NSS database trusts one CA root for TLS servers, as
 * an admin's browser trusts a CA: Chromium then verifies certificates it
 * issued like any other, with no flag that relaxes checking.
 */
export function homeTrusting(t: TestContext, caFile: string): string {
  const home = mkdtempSync(join(tmpdir(), 'ocm-browser-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const db = `sql:${home}/.pki/nssdb`;
  mkdirSync(`${home}/.pki/nssdb`, { recursive: true, mode: 0o700 });
  execFileSync('certutil', ['-N', '-d', db, '--empty-password'], { stdio: 'pipe' });
  execFileSync('certutil', ['-A', '-d', db, '-n', 'test CA', '-t', 'C,,', '-i', caFile], { stdio: 'pipe' });
  return home;
}

export async function launchBrowser(t: TestContext, options: BrowserOptions = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync',
      ...(options.hostResolverRules === undefined ? [] : [`--host-resolver-rules=${options.hostResolverRules}`]),
    ],
    ...(options.home === undefined ? {} : { env: { ...process.env, HOME: options.home } }),
  });
  t.after(() => browser.close());
  return browser;
}
