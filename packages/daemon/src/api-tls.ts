// ACME certificates through the admin API: what `ocm tls renew` calls. The
// renewal runs in the daemon, whose HTTP listener answers the CA's challenges.
import type { FastifyInstance } from 'fastify';
import { ACME_CHALLENGE_PREFIX as CHALLENGE_PREFIX } from '@ocm/core';
import type { HostStatus } from '@ocm/acme';
import { tlsRenewBody } from './schemas.js';

export interface TlsControl {
  status(): HostStatus[];
  renew(names: readonly string[], force: boolean): Promise<HostStatus[]>;
}

export function registerTlsRoutes(app: FastifyInstance, tls: TlsControl): void {
  app.get('/api/tls', async () => ({ hosts: tls.status() }));
  app.post<{ Body: { names?: string[]; force?: boolean } }>('/api/tls/renew', { schema: { body: tlsRenewBody } }, async (request) => {
    const names = [...new Set(request.body.names ?? [])];
    request.log.info({ users: names.length === 0 ? 'all' : names, force: request.body.force === true }, 'certificate renewal asked');
    return { hosts: await tls.renew(names, request.body.force === true) };
  });
}

/**
 * nginx mode: nginx passes /.well-known/acme-challenge/ on each user host's
 * port 80 here. Public, as the CA asks without credentials; it answers only
 * tokens of orders this daemon has open, and 404 to anything else.
 */
export function registerChallengeRoute(app: FastifyInstance, answer: (path: string) => string | undefined): void {
  app.get<{ Params: { token: string } }>(`${CHALLENGE_PREFIX}:token`, { config: { access: 'public' } }, async (request, reply) => {
    const value = answer(`${CHALLENGE_PREFIX}${request.params.token}`);
    if (value === undefined) return reply.code(404).type('text/plain').send('no such challenge\n');
    return reply.type('text/plain').send(value);
  });
}
