// Refusals in the provider's own error shape, so the gateway shows the
// message to the user as it would a provider's.
import type { ServerResponse } from 'node:http';
import type { Provider } from '@ocm/core';

export type RefusalKind = 'auth' | 'not_found' | 'invalid' | 'too_large' | 'budget' | 'upstream';

const OPENAI_TYPE: Record<RefusalKind, string> = {
  auth: 'invalid_request_error', not_found: 'invalid_request_error', invalid: 'invalid_request_error',
  too_large: 'invalid_request_error', budget: 'insufficient_quota', upstream: 'api_error',
};
const ANTHROPIC_TYPE: Record<RefusalKind, string> = {
  auth: 'authentication_error', not_found: 'not_found_error', invalid: 'invalid_request_error',
  too_large: 'request_too_large', budget: 'rate_limit_error', upstream: 'api_error',
};

export function refusalBody(api: Provider['api'] | undefined, kind: RefusalKind, message: string): string {
  if (api === 'anthropic-messages') return JSON.stringify({ type: 'error', error: { type: ANTHROPIC_TYPE[kind], message } });
  return JSON.stringify({ error: { message, type: OPENAI_TYPE[kind], code: kind === 'budget' ? 'budget_exceeded' : null } });
}

export function refuse(res: ServerResponse, status: number, api: Provider['api'] | undefined, kind: RefusalKind, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = refusalBody(api, kind, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
