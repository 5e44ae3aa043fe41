// Who may call a route. Every route needs the admin token as a Bearer header
// unless it says otherwise: 'public' (login page) or 'session' (also accepts
// the status page's cookie, and then a CSRF token and same-origin check on
// writes). Wrong tokens count against the caller's address.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OcmError } from '@ocm/core';
import { tokensMatch } from '@ocm/store';
import { SESSION_COOKIE, readCookie } from './cookies.js';
import type { FailureLimiter } from './failure-limiter.js';
import type { Session, SessionStore } from './sessions.js';

export type Access = 'public' | 'token' | 'session';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AuthInfo {
  via: 'token' | 'session';
  session?: Session;
}

export interface AuthOptions {
  adminToken: string;
  sessions: SessionStore;
  limiter: FailureLimiter;
}

const granted = new WeakMap<FastifyRequest, AuthInfo>();

export function authOf(request: FastifyRequest): AuthInfo | undefined {
  return granted.get(request);
}

/** Audit actor for what a request changes. */
export function actorOf(request: FastifyRequest): string {
  return authOf(request)?.via === 'session' ? 'web' : 'api';
}

export function rateLimited(waitMs: number): OcmError {
  return new OcmError('OCM_E_RATE_LIMITED', `too many wrong admin tokens from this address; retry in ${Math.ceil(waitMs / 1000)} s`, {
    details: { retryAfterSeconds: Math.ceil(waitMs / 1000) },
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access ?? 'token';
    if (access === 'public') return;
    const wait = options.limiter.blockedFor(request.ip);
    if (wait > 0) {
      void reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw rateLimited(wait);
    }
    const header = request.headers.authorization;
    if (header !== undefined) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      if (given !== undefined && tokensMatch(given, options.adminToken)) {
        granted.set(request, { via: 'token' });
        return;
      }
      options.limiter.fail(request.ip);
      request.log.warn({ client: request.ip }, 'wrong admin token');
      throw new OcmError('OCM_E_AUTH_REQUIRED', 'the admin token is wrong');
    }
    if (access === 'session') {
      const session = options.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
      if (session !== undefined) {
        granted.set(request, { via: 'session', session });
        return;
      }
    }
    throw new OcmError('OCM_E_AUTH_REQUIRED', `${request.method} ${request.url.split('?')[0] ?? ''} needs the admin token`);
  });

  // After the body is parsed, so a form's _csrf field can be read.
  app.addHook('preValidation', async (request) => {
    const auth = authOf(request);
    if (auth?.via !== 'session' || auth.session === undefined || SAFE_METHODS.has(request.method)) return;
    assertSameOrigin(request);
    const body = request.body as Record<string, unknown> | undefined;
    const header = request.headers['x-csrf-token'];
    const given = typeof header === 'string' ? header : typeof body?._csrf === 'string' ? body._csrf : undefined;
    if (given === undefined || !tokensMatch(given, auth.session.csrf)) {
      request.log.warn({ client: request.ip, route: request.routeOptions.url }, 'refused a session request without the CSRF token');
      throw forbidden('the request did not carry the status page\'s CSRF token');
    }
  });
}

/** A browser request must come from a page of this listener, not another site. */
export function assertSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw forbidden(`requests from other sites are refused (sec-fetch-site: ${String(site)})`);
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const own = `${request.protocol}://${request.headers.host ?? ''}`;
  if (origin !== own) throw forbidden(`requests from ${JSON.stringify(origin)} are refused; only ${own} may post here`);
}

function forbidden(message: string): OcmError {
  return new OcmError('OCM_E_FORBIDDEN', message);
}
