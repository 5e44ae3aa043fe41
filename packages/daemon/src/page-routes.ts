// GET / (login form or status page), POST /login, POST /logout. The admin
// token is only ever sent in a POST body, never in a URL; a good one gives a
// session cookie, a wrong one counts against the caller's address.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { tokensMatch } from '@ocm/store';
import { assertSameOrigin, authOf, rateLimited } from './auth.js';
import { SESSION_COOKIE, clearedSessionCookie, readCookie, sessionCookie } from './cookies.js';
import type { FailureLimiter } from './failure-limiter.js';
import { loginPage, statusPage, type Page } from './page-html.js';
import { loginBody } from './schemas.js';
import type { SessionStore } from './sessions.js';

export interface PageDeps {
  adminToken: string;
  sessions: SessionStore;
  limiter: FailureLimiter;
  /** The model spend section of the status page, rendered per page load. */
  spend?: () => Promise<string>;
}

function send(reply: FastifyReply, status: number, page: Page): FastifyReply {
  return reply.code(status).headers(page.headers).send(page.body);
}

export function registerPageRoutes(app: FastifyInstance, deps: PageDeps): void {
  // Forms post application/x-www-form-urlencoded; this is all the parsing they need.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/', { config: { access: 'public' } }, async (request, reply) => {
    const session = deps.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
    return send(reply, 200, session === undefined ? loginPage() : statusPage(session.csrf, (await deps.spend?.()) ?? ''));
  });

  // The spend section alone, for the page's refresh to redraw the chart: the
  // daemon's own escaped render, answered 304 while it has not changed.
  app.get('/spend', { config: { access: 'session' } }, async (request, reply) => {
    const body = (await deps.spend?.()) ?? '';
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    void reply.header('etag', etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.code(200).type('text/html; charset=utf-8').send(body);
  });

  app.post<{ Body: { token: string } }>('/login', { config: { access: 'public' }, schema: { body: loginBody } }, async (request, reply) => {
    const wait = deps.limiter.blockedFor(request.ip);
    if (wait > 0) {
      void reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return send(reply, 429, loginPage(rateLimited(wait).message));
    }
    assertSameOrigin(request);
    if (!tokensMatch(request.body.token.trim(), deps.adminToken)) {
      deps.limiter.fail(request.ip);
      request.log.warn({ client: request.ip }, 'wrong admin token at login');
      return send(reply, 401, loginPage('That is not the admin token.'));
    }
    const session = deps.sessions.create();
    request.log.info({ client: request.ip }, 'signed in to the status page');
    return reply
      .code(303)
      .header('set-cookie', sessionCookie(session.id, Math.floor(deps.sessions.ttlMs / 1000), request.protocol === 'https'))
      .header('location', '/')
      .header('cache-control', 'no-store')
      .send();
  });

  app.post('/logout', { config: { access: 'session' } }, async (request, reply) => {
    const session = authOf(request)?.session;
    if (session !== undefined) deps.sessions.delete(session.id);
    return reply.code(303).header('set-cookie', clearedSessionCookie(request.protocol === 'https')).header('location', '/').send();
  });
}
