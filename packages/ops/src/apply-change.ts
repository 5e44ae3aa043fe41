// After `set` wrote ocm.yaml: bring the user's container in line, and when
// Docker or the gateway refuses the new container (the old one runs on),
// put ocm.yaml back too, so what is recorded is what runs.
import { OcmError } from '@ocm/core';
import { assertAllOk, up, type LifecycleOptions, type UpResult } from './lifecycle.js';
import type { RuntimeContext } from './runtime-context.js';
import { revertEdit, type SetResult } from './users.js';

export async function applyChange(ctx: RuntimeContext, name: string, change: Pick<SetResult, 'manifest' | 'previous'>, options: LifecycleOptions = {}): Promise<UpResult> {
  const result = await up(ctx, [name], options);
  const refused = result.outcomes.find((o) => !o.ok && o.error?.code === 'OCM_E_CHANGE_REFUSED' && o.error.details?.['kept'] === true)?.error;
  if (refused !== undefined) {
    const reverted = await revertEdit(ctx, name, change.manifest, change.previous, refused.message);
    throw new OcmError('OCM_E_CHANGE_REFUSED', reverted ? `${refused.message}; ocm.yaml is as it was` : `${refused.message}; ocm.yaml was edited meanwhile and still asks for the change`, {
      cause: refused,
      hint: reverted ? refused.hint : `fix ${name}'s entry in ocm.yaml, then run \`ocm up ${name}\``,
      details: { ...refused.details, reverted },
    });
  }
  assertAllOk(result.outcomes);
  return result;
}
