// Each user's key for the model meter is derived from one root secret and
// the user's key version, so the meter needs no key store, a key names its
// user, and rotating one user's key (a new random version) leaves the others.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Every meter key starts so: it marks the openclaw.json entries ocm wrote. */
export const METER_KEY_PREFIX = 'ocm-meter-';
const PREFIX = METER_KEY_PREFIX;

/**
 * Each rotated user's current key version: random, never reused, so no old
 * key can come back. A user without one has the key of before any rotation.
 */
export type MeterKeyVersions = ReadonlyMap<string, string>;

export function meterKey(secret: string, name: string, version?: string): string {
  // No version: the message keys had before rotation existed, so they stay valid.
  const message = version === undefined ? `meter:${name}` : `meter:${name}:${version}`;
  const mac = createHmac('sha256', secret).update(message).digest('base64url');
  return `${PREFIX}${name}.${mac}`;
}

/**
 * The user a presented key belongs to, or undefined when it is not one of
 * ours or not of the user's current version (a rotated-away key).
 */
export function meterKeyUser(secret: string, presented: string, versions: MeterKeyVersions = new Map()): string | undefined {
  if (!presented.startsWith(PREFIX) || presented.length > 200) return undefined;
  const dot = presented.lastIndexOf('.');
  if (dot <= PREFIX.length) return undefined;
  const name = presented.slice(PREFIX.length, dot);
  const expected = Buffer.from(meterKey(secret, name, versions.get(name)));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given) ? name : undefined;
}
