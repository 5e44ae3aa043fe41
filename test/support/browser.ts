// Headless Chromium (Debian's) for tests, with a throwaway profile, the flags
// this closed network needs, and host names mapped without DNS.
import { access } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.OCM_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = await access(CHROMIUM).then(() => true, () => false);

export interface BrowserOptions {
  /** Another executable that starts Chromium, e.g. in a test host's namespace. */
  executablePath?: string;
  /** e.g. `MAP *.your-ai.test 127.0.0.1` */
  hostResolverRules?: string;
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
  });
  t.after(() => browser.close());
  return browser;
}
