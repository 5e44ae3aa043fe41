// The model meter's root secret: every user's meter key is derived from it
// (core's meterKey). Kept 0600 in the root beside admin.token, never logged,
// never in a user's tree or a backup.
import { rootLayout } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';
import { newToken } from './tokens.js';

/** The meter secret, or undefined before the first metered render made it. */
export async function readMeterSecret(root: string): Promise<string | undefined> {
  const existing = (await readIfExists(rootLayout(root).meterSecret))?.trim();
  return existing === undefined || existing === '' ? undefined : existing;
}

/** The meter secret, created on first use. */
export async function ensureMeterSecret(root: string): Promise<string> {
  const existing = await readMeterSecret(root);
  if (existing !== undefined) return existing;
  const secret = newToken();
  await writeDurable(rootLayout(root).meterSecret, `${secret}\n`, { mode: 0o600, followLink: true });
  return secret;
}
