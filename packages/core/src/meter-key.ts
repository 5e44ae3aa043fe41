// Each user's key for the model meter is derived from one root secret, so
// the meter needs no per-user key store and a key names its user.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Every meter key starts so: it marks the openclaw.json entries ocm wrote. */
export const METER_KEY_PREFIX = 'ocm-meter-';
const PREFIX = METER_KEY_PREFIX;

export function meterKey(secret: string, name: string): string {
  const mac = createHmac('sha256', secret).update(`meter:${name}`).digest('base64url');
  return `${PREFIX}${name}.${mac}`;
}

/** The user a presented key belongs to, or undefined when it is not one of ours. */
export function meterKeyUser(secret: string, presented: string): string | undefined {
  if (!presented.startsWith(PREFIX) || presented.length > 200) return undefined;
  const dot = presented.lastIndexOf('.');
  if (dot <= PREFIX.length) return undefined;
  const name = presented.slice(PREFIX.length, dot);
  const expected = Buffer.from(meterKey(secret, name));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given) ? name : undefined;
}
