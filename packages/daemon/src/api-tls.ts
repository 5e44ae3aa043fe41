// ACME certificates through the admin API: what `ocm tls renew` calls. The
// renewal runs in the daemon, whose HTTP listener answers the CA's challenges.
import type { FastifyInstance } from 'fastify';
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
