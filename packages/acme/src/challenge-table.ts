// HTTP-01 answers in memory: the proxy (or nginx through the daemon) serves
// /.well-known/acme-challenge/<token> from here while an order is open.
import { ACME_CHALLENGE_PREFIX } from '@ocm/core';

export const CHALLENGE_PREFIX = ACME_CHALLENGE_PREFIX;

export interface ChallengeTable {
  set(token: string, keyAuthorization: string): void;
  delete(token: string): void;
  /** The answer for a request path, or undefined. */
  answer(path: string): string | undefined;
}

export function createChallengeTable(): ChallengeTable {
  const tokens = new Map<string, string>();
  return {
    set: (token, value) => void tokens.set(token, value),
    delete: (token) => void tokens.delete(token),
    answer(path) {
      if (!path.startsWith(CHALLENGE_PREFIX)) return undefined;
      return tokens.get(path.slice(CHALLENGE_PREFIX.length));
    },
  };
}
