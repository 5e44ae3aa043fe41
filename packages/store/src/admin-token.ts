// The daemon's admin token: made at `ocm init`, kept 0600 in the root, never
// logged. Compared in constant time by whoever checks it.
import { timingSafeEqual, createHash } from 'node:crypto';
import { rootLayout } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';
import { newToken } from './tokens.js';

export async function readAdminToken(root: string): Promise<string | undefined> {
  return (await readIfExists(rootLayout(root).adminToken))?.trim() || undefined;
}

/** The admin token, created on first use. */
export async function ensureAdminToken(root: string): Promise<string> {
  const existing = await readAdminToken(root);
  if (existing !== undefined) return existing;
  const token = newToken();
  await writeDurable(rootLayout(root).adminToken, `${token}\n`, { mode: 0o600, followLink: true });
  return token;
}

/** Constant-time comparison that also hides the length of the expected token. */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
