// Pairing a user's browsers without `docker exec`: ocm runs the gateway's own
// `openclaw devices` CLI inside that user's running container, as the gateway
// user, and speaks of the result in its own words. Every decision is audited.
import {
  DEVICE_ID_PATTERN, GATEWAY_WORKDIR, OcmError, gatewayUser, deviceCommandError, devicesCommand, parseDeviceList,
  type DeviceList, type PendingDevice,
} from '@ocm/core';
import { selectUsers } from './current-plan.js';
import type { RuntimeContext } from './runtime-context.js';
import { userContainer } from './user-container.js';

export type DeviceDecision =
  | { action: 'approve'; requestId: string }
  | { action: 'approve-latest' }
  | { action: 'reject'; requestId: string }
  | { action: 'revoke'; deviceId: string };

export interface DeviceDecisionResult {
  user: string;
  action: 'approve' | 'reject' | 'revoke';
  /** The request approved or rejected, or the device revoked. */
  id: string;
  device?: PendingDevice;
}

interface Target { name: string; container: string; uid: string }

async function runningGateway(ctx: RuntimeContext, name: string): Promise<Target> {
  // Pairing reads ocm.yaml and writes nothing of the root.
  const { manifest } = await ctx.root.load();
  selectUsers(manifest.users, [name]);
  await ctx.engine.ping();
  const container = await userContainer(ctx, name);
  if (container === undefined) throw new OcmError('OCM_E_CONTAINER_MISSING', `${name} has no container`, { hint: `start it with \`ocm start ${name}\`` });
  if (container.state !== 'running') {
    throw new OcmError('OCM_E_DEVICES_FAILED', `${name}'s gateway is ${container.state}, so it cannot pair devices`, { hint: `start it with \`ocm start ${name}\`` });
  }
  return { name, container: container.name, uid: gatewayUser(manifest) };
}

async function gatewayDevices(ctx: RuntimeContext, target: Target, args: string[]): Promise<string> {
  const result = await ctx.engine.exec(target.container, devicesCommand(args), { user: target.uid, workingDir: GATEWAY_WORKDIR });
  if (result.exitCode !== 0) {
    const reason = deviceCommandError(result.stdout, result.stderr);
    if (/unknown (requestId|device)/i.test(reason)) {
      throw new OcmError('OCM_E_DEVICE_UNKNOWN', `${target.name}'s gateway has no ${args[1] === undefined ? 'such request' : JSON.stringify(args[1])}: ${reason}`);
    }
    throw new OcmError('OCM_E_DEVICES_FAILED', `${target.name}'s gateway refused \`devices ${args[0] ?? ''}\`: ${reason}`);
  }
  return result.stdout;
}

/** Pending pairing requests (newest first) and paired devices of one user's gateway. */
export async function listDevices(ctx: RuntimeContext, name: string): Promise<DeviceList> {
  const target = await runningGateway(ctx, name);
  return parseDeviceList(name, await gatewayDevices(ctx, target, ['list']));
}

function checkId(kind: string, id: string): void {
  if (!DEVICE_ID_PATTERN.test(id)) {
    throw new OcmError('OCM_E_DEVICE_UNKNOWN', `${JSON.stringify(id)} is not a ${kind}`, { hint: 'copy the id from `ocm devices <name>`' });
  }
}

/**
 * Approves, rejects or revokes. The id is checked against the gateway's own
 * list first, so an unknown or expired one changes nothing and says so.
 */
export async function decideDevice(ctx: RuntimeContext, name: string, decision: DeviceDecision): Promise<DeviceDecisionResult> {
  if (decision.action === 'revoke') checkId('device id', decision.deviceId);
  else if (decision.action !== 'approve-latest') checkId('request id', decision.requestId);
  const target = await runningGateway(ctx, name);
  const list = parseDeviceList(name, await gatewayDevices(ctx, target, ['list']));
  let result: DeviceDecisionResult;
  if (decision.action === 'revoke') {
    if (!list.paired.some((d) => d.deviceId === decision.deviceId)) {
      throw new OcmError('OCM_E_DEVICE_UNKNOWN', `${name} has no paired device ${JSON.stringify(decision.deviceId)}`);
    }
    await gatewayDevices(ctx, target, ['remove', decision.deviceId]);
    result = { user: name, action: 'revoke', id: decision.deviceId };
  } else {
    const requestId = decision.action === 'approve-latest' ? list.pending[0]?.requestId : decision.requestId;
    const device = list.pending.find((d) => d.requestId === requestId);
    if (requestId === undefined || device === undefined) {
      throw new OcmError(
        'OCM_E_DEVICE_UNKNOWN',
        requestId === undefined ? `${name} has no pending pairing request` : `${name} has no pending request ${JSON.stringify(requestId)} (approved, rejected or expired already?)`,
        { hint: `open ${name}'s page in the browser to pair, then run \`ocm devices ${name}\`` },
      );
    }
    const action = decision.action === 'reject' ? 'reject' : 'approve';
    await gatewayDevices(ctx, target, [action, requestId]);
    result = { user: name, action, id: requestId, device };
  }
  await ctx.root.audit({
    actor: ctx.actor,
    action: `device.${result.action}`,
    target: name,
    details: { id: result.id, ...(result.device === undefined ? {} : { clientAddress: result.device.clientAddress, platform: result.device.platform }) },
  });
  return result;
}
