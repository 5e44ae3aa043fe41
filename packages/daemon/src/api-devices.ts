// Pairing through the admin API and the status page: list a user's pending
// requests and paired devices, approve, reject or revoke one, as
// `ocm devices` does. Writes need the status page's CSRF token or the admin token.
import type { FastifyInstance } from 'fastify';
import { OcmError } from '@ocm/core';
import { decideDevice, listDevices, type DeviceDecision } from '@ocm/ops';
import { runtimeOf, type ApiDeps } from './api-context.js';
import { approveDeviceBody, rejectDeviceBody, revokeDeviceBody, userParams } from './schemas.js';

interface NameParams { name: string }

export function registerDeviceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Params: NameParams }>('/api/users/:name/devices', { schema: { params: userParams }, config: { access: 'session' } }, async (request, reply) => {
    const list = await listDevices(runtimeOf(deps, request), request.params.name);
    return reply.header('cache-control', 'no-store').send(list);
  });

  const decide = async (request: { params: NameParams }, ctx: ReturnType<typeof runtimeOf>, decision: DeviceDecision) =>
    decideDevice(ctx, request.params.name, decision);

  app.post<{ Params: NameParams; Body: { requestId?: string; latest?: true } }>(
    '/api/users/:name/devices/approve',
    { schema: { params: userParams, body: approveDeviceBody }, config: { access: 'session' } },
    async (request) => {
      const { requestId, latest } = request.body;
      if ((requestId === undefined) === (latest === undefined)) {
        throw new OcmError('OCM_E_USAGE', 'give either requestId or latest: true', { hint: 'e.g. {"requestId":"6ede6e4f-..."}' });
      }
      const decision: DeviceDecision = requestId === undefined ? { action: 'approve-latest' } : { action: 'approve', requestId };
      return decide(request, runtimeOf(deps, request), decision);
    },
  );

  app.post<{ Params: NameParams; Body: { requestId: string } }>(
    '/api/users/:name/devices/reject',
    { schema: { params: userParams, body: rejectDeviceBody }, config: { access: 'session' } },
    async (request) => decide(request, runtimeOf(deps, request), { action: 'reject', requestId: request.body.requestId }),
  );

  app.post<{ Params: NameParams; Body: { deviceId: string } }>(
    '/api/users/:name/devices/revoke',
    { schema: { params: userParams, body: revokeDeviceBody }, config: { access: 'session' } },
    async (request) => decide(request, runtimeOf(deps, request), { action: 'revoke', deviceId: request.body.deviceId }),
  );
}
