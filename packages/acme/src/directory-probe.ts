// One plain GET of the ACME directory before an order: when the CA cannot be
// reached at all, say so with the network error, instead of what acme-client
// reports after its retries (a TypeError about an absent response).
import { get, type Agent } from 'node:https';
import { OcmError, quote } from '@ocm/core';

export function probeDirectory(url: string, agent: Agent | undefined, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void =>
      reject(new OcmError('OCM_E_ACME_FAILED', `the ACME directory ${quote(url)} cannot be reached (${why})`, { cause, details: { directory: url } }));
    const request = get(url, { ...(agent ? { agent } : {}), timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(`HTTP ${res.statusCode ?? '?'}`);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err));
  });
}
