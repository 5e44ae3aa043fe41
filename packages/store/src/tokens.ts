// Gateway tokens live only in each user's 0600 env file; this reads them back
// and makes new ones (32 random bytes, URL-safe).
import { randomBytes } from 'node:crypto';
import { TOKEN_ENV } from '@ocm/core';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The value of OPENCLAW_GATEWAY_TOKEN in an env file's text, if any. */
export function tokenFromEnvFile(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${TOKEN_ENV}=`)) {
      const value = line.slice(TOKEN_ENV.length + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
