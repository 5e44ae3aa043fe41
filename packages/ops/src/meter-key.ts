// A user's key for the model meter: shown, or rotated. A rotation gives the
// user a new random key version (meter.keys), renders her openclaw.json with
// the new key (the gateway reloads its model providers from the file without
// a restart) and the meter refuses the old key from its next call on.
import { OcmError, meterKey, type Manifest } from '@ocm/core';
import { readMeterKeys, readMeterSecret, rotateMeterKey, type FileChange } from '@ocm/store';
import type { OpsContext } from './context.js';
import { editRoot, type Edit } from './edit-pipeline.js';
import { findUser } from './user-fields.js';

export interface MeterKeyResult { name: string; key: string; rotated: boolean; changes: FileChange[] }

function assertMetered(manifest: Manifest, name: string): void {
  findUser(manifest, name);
  if (Object.keys(manifest.settings.models?.providers ?? {}).length === 0) {
    throw new OcmError('OCM_E_MODELS_OFF', `${name} has no meter key: no model provider is configured in this root`);
  }
}

async function currentKey(ctx: OpsContext, name: string): Promise<string> {
  const secret = await readMeterSecret(ctx.root.path);
  if (secret === undefined) throw new OcmError('OCM_E_RENDER_STALE', `${name} has no meter key yet`);
  return meterKey(secret, name, (await readMeterKeys(ctx.root.path)).get(name));
}

export function rotateMeterKeyEdit(ctx: OpsContext, name: string): Edit<MeterKeyResult> {
  return {
    plan(manifest) {
      assertMetered(manifest, name);
      return {
        beforeWrite: [() => rotateMeterKey(ctx.root.path, name)],
        // Only that it happened: a key is never written to the audit log.
        audit: () => ({ action: 'meter-key.rotate', target: name }),
        result: async ({ changes }) => ({ name, key: await currentKey(ctx, name), rotated: true, changes }),
      };
    },
  };
}

export async function userMeterKey(ctx: OpsContext, name: string, rotate: boolean): Promise<MeterKeyResult> {
  if (rotate) return editRoot(ctx, rotateMeterKeyEdit(ctx, name));
  const { manifest } = await ctx.root.load();
  assertMetered(manifest, name);
  return { name, key: await currentKey(ctx, name), rotated: false, changes: [] };
}
