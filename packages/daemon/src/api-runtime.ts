// Start, stop, restart, logs and status of the gateways, as `ocm
// start/stop/restart/logs/status` do them. Status and the three actions also
// accept the status page's session (writes then need its CSRF token).
import type { FastifyInstance } from 'fastify';
import { OcmError } from '@ocm/core';
import { restartUser, showUser, startUser, stopUser, userContainer } from '@ocm/ops';
import { runtimeOf, type ApiDeps } from './api-context.js';
import { logsQuery, userParams } from './schemas.js';
import type { StatusReport } from './status-report.js';

interface NameParams { name: string }

export interface RuntimeRouteDeps extends ApiDeps {
  status: (request: Parameters<typeof runtimeOf>[1]) => Promise<StatusReport>;
  /**
   * The proxy probes its gateways on a timer; after an action it probes that user's at
   * once, so a gateway reported started is also served (and a stopped one
   * gets the 503 page) when the reply arrives.
   */
  gatewaysChanged?: (name: string) => Promise<void>;
}

export function registerRuntimeRoutes(app: FastifyInstance, deps: RuntimeRouteDeps): void {
  app.get('/api/status', { config: { access: 'session' } }, async (request, reply) => {
    return reply.header('cache-control', 'no-store').send(await deps.status(request));
  });

  const actions = {
    start: async (ctx: ReturnType<typeof runtimeOf>, name: string) => void (await startUser(ctx, name)),
    stop: (ctx: ReturnType<typeof runtimeOf>, name: string) => stopUser(ctx, name),
    restart: (ctx: ReturnType<typeof runtimeOf>, name: string) => restartUser(ctx, name),
  };
  for (const [verb, action] of Object.entries(actions)) {
    app.post<{ Params: NameParams }>(`/api/users/:name/${verb}`, { schema: { params: userParams }, config: { access: 'session' } }, async (request) => {
      const ctx = runtimeOf(deps, request);
      try {
        await action(ctx, request.params.name);
      } finally {
        await deps.gatewaysChanged?.(request.params.name).catch((err: unknown) => request.log.warn({ err }, 'route refresh after an action failed'));
      }
      request.log.info({ user: request.params.name, actor: ctx.actor }, `${verb} done`);
      return { name: request.params.name, done: verb };
    });
  }

  app.get<{ Params: NameParams; Querystring: { tail?: string } }>(
    '/api/users/:name/logs',
    { schema: { params: userParams, querystring: logsQuery } },
    async (request) => {
      const ctx = runtimeOf(deps, request);
      const { name } = request.params;
      await showUser(ctx, name);
      const tail = Number(request.query.tail ?? '200');
      // The container ocm made for this user in this root, whatever its name scheme.
      const container = await userContainer(ctx, name);
      if (container === undefined) throw new OcmError('OCM_E_CONTAINER_MISSING', `${name} has no container`, { hint: `start it with POST /api/users/${name}/start` });
      const text = await ctx.engine.logs(container.name, { tail });
      return { name, tail, lines: text === '' ? [] : text.replace(/\n$/, '').split('\n') };
    },
  );
}
