// The daemon's certificate API as a test reads it: GET /api/tls, POST
// /api/tls/renew, and a wait for a host's first certificate.
import assert from 'node:assert/strict';
import { waitFor } from '../../../../test/support/wait.js';
import type { RunningDaemon } from './daemon.js';

export interface TlsHost { host: string; issuer?: string; serial?: string; daysLeft?: number; lastError?: string }

export interface TlsApi {
  call: (path: string, body?: unknown) => Promise<{ hosts: TlsHost[] }>;
  /** Resolves with the host's status once it has a certificate; the log in the message otherwise. */
  certified: (host: string) => Promise<TlsHost>;
}

export function tlsApi({ admin, token, logs }: Pick<RunningDaemon, 'admin' | 'token' | 'logs'>): TlsApi {
  const call = async (path: string, body?: unknown): Promise<{ hosts: TlsHost[] }> => {
    const res = await fetch(`${admin}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { hosts: TlsHost[] };
  };
  const certified = (host: string): Promise<TlsHost> => waitFor(async () => (await call('/api/tls')).hosts.find((h) => h.host === host && h.serial !== undefined),
    { timeoutMs: 30_000, what: `a certificate for ${host}; log:\n${logs.join('')}` });
  return { call, certified };
}
