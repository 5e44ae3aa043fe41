// The model meter's root secret: every user's meter key is derived from it
// (core's meterKey). Kept 0600 in the root beside admin.token, never logged,
// never in a user's tree or a backup.
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';
import { newToken } from './tokens.js';

export const METER_SECRET_FILE = 'meter.secret';

/** The meter secret, created on first use. */
export async function ensureMeterSecret(root: string): Promise<string> {
  const existing = (await readIfExists(`${root}/${METER_SECRET_FILE}`))?.trim();
  if (existing !== undefined && existing !== '') return existing;
  const secret = newToken();
  await writeDurable(`${root}/${METER_SECRET_FILE}`, `${secret}\n`, { mode: 0o600, followLink: true });
  return secret;
}
