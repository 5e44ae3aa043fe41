// Model usage per user, day and model, as `ocm usage` shows it, from the
// meter's usage store (empty before the meter ever ran); and each user's
// spend per day, the series the status page draws.
import type { FastifyInstance } from 'fastify';
import type { DeploymentRoot } from '@ocm/store';
import type { UsageRow, UsageStore } from '@ocm/meter';
import { spendByDay } from './model-spend.js';
import { usageDailyQuery, usageQuery } from './schemas.js';

export interface UsageRouteDeps {
  root: DeploymentRoot;
  usage: () => UsageStore | undefined;
  now: () => number;
}

export function registerUsageRoutes(app: FastifyInstance, deps: UsageRouteDeps): void {
  app.get<{ Querystring: { user?: string; since?: string } }>('/api/usage', { schema: { querystring: usageQuery } }, async (request, reply) => {
    const rows: UsageRow[] = deps.usage()?.report({ user: request.query.user, sinceDay: request.query.since }) ?? [];
    return reply.header('cache-control', 'no-store').send({ rows });
  });

  app.get<{ Querystring: { user?: string; days: string } }>('/api/usage/daily', { schema: { querystring: usageDailyQuery } }, async (request, reply) => {
    const { manifest } = await deps.root.load();
    const store = deps.usage();
    const { user } = request.query;
    const days = Number(request.query.days);
    const series = store === undefined ? [] : spendByDay(manifest, store, deps.now(), days, user);
    return reply.header('cache-control', 'no-store').send({ timezone: manifest.settings.timezone, days, users: series });
  });
}
