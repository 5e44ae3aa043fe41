// Model usage per user, day and model, as `ocm usage` shows it, from the
// meter's usage store (empty before the meter ever ran).
import type { FastifyInstance } from 'fastify';
import type { UsageRow, UsageStore } from '@ocm/meter';
import { usageQuery } from './schemas.js';

export function registerUsageRoutes(app: FastifyInstance, usage: () => UsageStore | undefined): void {
  app.get<{ Querystring: { user?: string; since?: string } }>('/api/usage', { schema: { querystring: usageQuery } }, async (request, reply) => {
    const rows: UsageRow[] = usage()?.report({ user: request.query.user, sinceDay: request.query.since }) ?? [];
    return reply.header('cache-control', 'no-store').send({ rows });
  });
}
