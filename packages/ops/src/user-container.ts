// The container ocm made for one user of this root, whatever its name
// scheme: found by its labels, never a make-before-break leftover
// (<name>.next / <name>.prev) that a killed change left beside it.
import { LABEL_ROOT, LABEL_USER } from '@ocm/core';
import { swapLeftoverOf, type ObservedContainer } from '@ocm/engine';
import type { RuntimeContext } from './runtime-context.js';

export async function userContainer(ctx: RuntimeContext, name: string): Promise<ObservedContainer | undefined> {
  const found = await ctx.engine.list({ labels: { [LABEL_ROOT]: ctx.root.path, [LABEL_USER]: name } });
  return found.find((c) => swapLeftoverOf(c.name) === undefined);
}
