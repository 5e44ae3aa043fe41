// Browser and device pairing, as the gateway reports it (`openclaw devices
// list --json`): pure parsing into ocm's own shape, so ops, the CLI, the admin
// API and the status page all speak of the same fields.
import { OcmError } from './errors.js';

export interface PendingDevice {
  requestId: string;
  deviceId: string;
  /** The client address the gateway attributed the request to (proves the proxy headers). */
  clientAddress: string;
  platform: string;
  client: string;
  role: string;
  requestedAt: string;
}

export interface PairedDevice {
  deviceId: string;
  name: string;
  clientAddress: string;
  platform: string;
  client: string;
  role: string;
  pairedAt: string;
  connected: boolean;
}

export interface DeviceList {
  pending: PendingDevice[];
  paired: PairedDevice[];
}

/** The gateway's ids: request ids are UUIDs, device ids hex digests; nothing else reaches its CLI. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const iso = (ms: unknown): string => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '');

function records(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

/** Parses `devices list --json`; anything else is an OCM_E_DEVICES_FAILED naming the user. */
export function parseDeviceList(user: string, stdout: string): DeviceList {
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    throw new OcmError('OCM_E_DEVICES_FAILED', `${user}'s gateway did not list its devices as JSON: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  if (typeof body !== 'object' || body === null) throw new OcmError('OCM_E_DEVICES_FAILED', `${user}'s gateway listed no devices object`);
  const b = body as { pending?: unknown; paired?: unknown };
  const pending = records(b.pending)
    .map((r) => ({
      requestId: str(r.requestId), deviceId: str(r.deviceId), clientAddress: str(r.remoteIp), platform: str(r.platform),
      client: str(r.clientId), role: str(r.role), requestedAt: iso(r.ts),
    }))
    .filter((d) => DEVICE_ID_PATTERN.test(d.requestId))
    .sort((x, y) => (x.requestedAt < y.requestedAt ? 1 : x.requestedAt > y.requestedAt ? -1 : 0));
  const paired = records(b.paired)
    .map((r) => ({
      deviceId: str(r.deviceId), name: str(r.operatorLabel) || str(r.displayName) || str(r.clientId), clientAddress: str(r.remoteIp),
      platform: str(r.platform), client: str(r.clientId), role: str(r.role), pairedAt: iso(r.approvedAtMs), connected: r.connected === true,
    }))
    .filter((d) => DEVICE_ID_PATTERN.test(d.deviceId));
  return { pending, paired };
}

/** The gateway's own reason when its CLI answered `{"ok":false,"error":{"message"}}`. */
export function deviceCommandError(stdout: string, stderr: string): string {
  try {
    const body = JSON.parse(stdout) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: fall back to the last line the CLI printed
  }
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return (lines.find((l) => l.includes('Reason:')) ?? lines.at(-1) ?? 'no output').replace(/^\[openclaw\]\s*/, '');
}
