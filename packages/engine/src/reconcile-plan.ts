// Pure: compare the containers the plan wants with those that exist and say
// what to do with each, so `ocm up --dry-run` and tests need no Docker.
import { LABEL_MANAGED, type UserDeployment } from '@ocm/core';
import type { ObservedContainer } from './engine-types.js';
import { swapLeftoverOf } from './swap-container.js';

export type ReconcileKind = 'create' | 'recreate' | 'start' | 'leave' | 'remove' | 'stop';

interface ActionBase {
  user: string;
  reason: string;
  /** A remove of a container an interrupted swap left (`<name>.next` / `.prev`) for a user still wanted. */
  leftover?: boolean;
}

/** desired = the wanted deployment, actual = the container that exists. */
export type ReconcileAction =
  | (ActionBase & { kind: 'create'; desired: UserDeployment })
  | (ActionBase & { kind: 'recreate' | 'start' | 'stop'; desired: UserDeployment; actual: ObservedContainer })
  | (ActionBase & { kind: 'leave'; desired: UserDeployment; actual?: ObservedContainer })
  | (ActionBase & { kind: 'remove'; actual: ObservedContainer });

export interface ReconcileScope {
  /** Only containers labelled ocm.root=<root> may be removed or reused; others belong to another deployment. */
  root?: string;
}

const LIVE = new Set(['running', 'restarting']);

export function planReconcile(
  desired: UserDeployment[],
  actual: ObservedContainer[],
  scope: ReconcileScope = {},
): ReconcileAction[] {
  // Never act on anything without our label, whatever the caller passed in.
  const ours = actual.filter((c) => c.labels[LABEL_MANAGED] === '1' && (scope.root === undefined || c.root === scope.root));
  const byName = new Map(ours.map((c) => [c.name, c]));
  const wanted = new Set(desired.map((d) => d.container.name));
  const actions = desired.map((d) => decide(d, byName.get(d.container.name)));
  const leftovers: ReconcileAction[] = [];
  for (const c of ours) {
    if (wanted.has(c.name)) continue;
    const of = swapLeftoverOf(c.name);
    if (of !== undefined && wanted.has(of)) {
      leftovers.push({ kind: 'remove', user: c.user ?? of, reason: 'left by an interrupted change', actual: c, leftover: true });
    } else {
      actions.push({ kind: 'remove', user: c.user ?? c.name, reason: 'user is no longer in the manifest', actual: c });
    }
  }
  return [...leftovers, ...actions];
}

function decide(d: UserDeployment, c: ObservedContainer | undefined): ReconcileAction {
  if (!c) {
    if (!d.enabled) return { kind: 'leave', user: d.name, desired: d, reason: 'user is disabled' };
    return { kind: 'create', user: d.name, desired: d, reason: 'no container yet' };
  }
  const base = { user: d.name, desired: d, actual: c };
  if (!d.enabled) {
    if (LIVE.has(c.state)) return { ...base, kind: 'stop', reason: 'user is disabled' };
    return { ...base, kind: 'leave', reason: 'user is disabled and already stopped' };
  }
  if (c.state === 'dead') return { ...base, kind: 'recreate', reason: 'container is dead' };
  if (c.specHash !== d.specHash) {
    return { ...base, kind: 'recreate', reason: `spec changed (${c.specHash ?? 'none'} -> ${d.specHash})` };
  }
  if (c.state === 'exited' || c.state === 'created') {
    return { ...base, kind: 'start', reason: `container is ${c.state}` };
  }
  return { ...base, kind: 'leave', reason: `unchanged and ${c.state}` };
}
