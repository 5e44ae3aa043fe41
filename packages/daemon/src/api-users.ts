// /api/users: the same manifest edits as `ocm add/set/remove/token`, through
// the same ops functions and the same follow-up on Docker (ops convergeEdit:
// add starts and waits for health, set recreates make before break, remove
// takes the container away, a rotated token recreates). Its notes and
// warnings come back in the answer.
import type { FastifyInstance } from 'fastify';
import { API_BUDGET_LABELS, addUser, convergeEdit, nodeForNewUser, listUsers, removeContainer, removeUser, setUser, showUser, startChecks, userMeterKey, userToken, type AddOptions, type ConvergeReport, type SetOptions } from '@ocm/ops';
import { runtimeOf, type ApiDeps } from './api-context.js';
import { addUserBody, removeUserQuery, setUserBody, userParams } from './schemas.js';

interface NameParams { name: string }

/** The follow-up's notes and warnings, when there are any. */
function said(report: ConvergeReport): { notes?: string[]; warnings?: string[] } {
  return { ...(report.notes.length > 0 ? { notes: report.notes } : {}), ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}) };
}
type AddBody = AddOptions & { name: string; start?: boolean };

export function registerUserRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/users', async (request) => ({ users: await listUsers(runtimeOf(deps, request)) }));

  app.get<{ Params: NameParams }>('/api/users/:name', { schema: { params: userParams } }, async (request) =>
    showUser(runtimeOf(deps, request), request.params.name));

  app.post<{ Body: AddBody }>('/api/users', { schema: { body: addUserBody } }, async (request, reply) => {
    const ctx = runtimeOf(deps, request);
    const { name, start = true, node: wanted, ...options } = request.body;
    const node = await nodeForNewUser(ctx.engine, (await ctx.root.load()).manifest, wanted);
    // Like the CLI: the host's room, Docker, the subnet and the image are checked under the lock, before the first write.
    const checks = startChecks(() => Promise.resolve(ctx.engine), ctx.root.path, {
      onReclaimed: (network, user) => request.log.warn({ network, user }, 'removed a leftover network of an interrupted add that held the new user\'s subnet'),
    });
    await addUser(ctx, name, { ...options, ...(node === undefined ? {} : { node }), ...(start ? checks : {}) });
    deps.edited();
    const report = await convergeEdit(ctx, { kind: 'add', name, start });
    return reply.code(201).send({ user: await showUser(ctx, name), started: start, ...said(report) });
  });

  app.patch<{ Params: NameParams; Body: SetOptions }>('/api/users/:name', { schema: { params: userParams, body: setUserBody } }, async (request) => {
    const ctx = runtimeOf(deps, request);
    const { name } = request.params;
    const result = await setUser(ctx, name, { ...request.body, budgetLabels: API_BUDGET_LABELS, hostCapacity: () => ctx.engine.capacity().catch(() => undefined) });
    deps.edited();
    let report: ConvergeReport;
    try {
      report = await convergeEdit(ctx, { kind: 'set', name, start: result.user?.enabled ?? true, change: result });
    } finally {
      // A refused change put ocm.yaml back: the routes follow it again.
      deps.edited();
    }
    return { user: await showUser(ctx, name), changed: result.changes.map((c) => c.path), ...said(report) };
  });

  app.delete<{ Params: NameParams; Querystring: { purge?: string; yes?: string } }>(
    '/api/users/:name',
    { schema: { params: userParams, querystring: removeUserQuery } },
    async (request) => {
      const ctx = runtimeOf(deps, request);
      const { name } = request.params;
      const result = await removeUser(ctx, name, { purge: request.query.purge === 'true', yes: request.query.yes === 'true', removeContainer: () => removeContainer(ctx, name) });
      deps.edited();
      const report = await convergeEdit(ctx, { kind: 'remove', name, start: false });
      const [warning] = report.warnings;
      return { removed: name, purged: result.purged, containers: [...result.containers, ...report.removed], ...(warning === undefined ? {} : { warning }), ...said(report) };
    },
  );

  // The only route that shows a token: the new one, once.
  app.post<{ Params: NameParams }>('/api/users/:name/token/rotate', { schema: { params: userParams } }, async (request, reply) => {
    const ctx = runtimeOf(deps, request);
    const { name } = request.params;
    const result = await userToken(ctx, name, true);
    deps.edited();
    const report = await convergeEdit(ctx, { kind: 'token', name, start: true });
    return reply.header('cache-control', 'no-store').send({ name, token: result.token, ...said(report) });
  });

  // The meter key is not shown: only her gateway needs it, and it gets it in openclaw.json.
  app.post<{ Params: NameParams }>('/api/users/:name/meter-key/rotate', { schema: { params: userParams } }, async (request) => {
    const result = await userMeterKey(runtimeOf(deps, request), request.params.name, true);
    return { name: result.name, rotated: true };
  });
}
