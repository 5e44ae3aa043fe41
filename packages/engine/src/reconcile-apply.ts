// Carry out a reconcile plan: networks first, then containers with bounded
// parallelism; one user's failure never stops the others.
import { availableParallelism } from 'node:os';
import type { OcmError, UserDeployment } from '@ocm/core';
import { toOcmError } from './docker-errors.js';
import type { ContainerEngine } from './engine-types.js';
import { mapLimit } from '@ocm/core';
import type { ReconcileAction, ReconcileKind } from './reconcile-plan.js';
import { swapContainer } from './swap-container.js';
import { waitHealthy, type WaitHealthyOptions } from './wait-healthy.js';

export interface ReconcileEvent {
  user: string;
  kind: ReconcileKind;
  status: 'begin' | 'done' | 'failed';
  reason: string;
  error?: OcmError;
}

/**
 * Users worked on (created, started, waited for) at once: 4 per CPU. Enough
 * to keep dockerd busy while earlier gateways boot, few enough that a
 * 50-user host does not boot 50 gateways on two cores at the same moment.
 */
export const DEFAULT_CONCURRENCY = 4 * availableParallelism();

export interface ApplyOptions {
  /** Users worked on at once; DEFAULT_CONCURRENCY by default. */
  concurrency?: number;
  onEvent?: (event: ReconcileEvent) => void;
  /** Wait for /healthz after create/recreate/start (the default), or false to return once started. */
  health?: WaitHealthyOptions | false;
  stopTimeoutSeconds?: number;
}

export interface ReconcileOutcome {
  action: ReconcileAction;
  ok: boolean;
  error?: OcmError;
  /** Networks removed along with a removed user. */
  removedNetworks?: string[];
}

export async function applyReconcile(
  engine: ContainerEngine,
  actions: ReconcileAction[],
  options: ApplyOptions = {},
): Promise<ReconcileOutcome[]> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const networkErrors = new Map<ReconcileAction, OcmError>();
  // Recreates ensure theirs after the old container is gone, so a changed subnet can be applied.
  const needNetwork = actions.filter(
    (a): a is Extract<ReconcileAction, { kind: 'create' | 'start' }> => a.kind === 'create' || a.kind === 'start',
  );
  await mapLimit(needNetwork, concurrency, async (action) => {
    try {
      await engine.ensureNetwork(action.desired.network);
    } catch (error) {
      networkErrors.set(action, toOcmError(error, `create network for ${action.user}`));
    }
  });
  // Leftovers of an interrupted swap go before anything starts: the state tree has one writer.
  const leftovers = actions.filter((a) => a.kind === 'remove' && a.leftover === true);
  const rest = actions.filter((a) => !leftovers.includes(a));
  const run = async (action: ReconcileAction): Promise<ReconcileOutcome> => {
    const emit = (status: ReconcileEvent['status'], error?: OcmError): void =>
      options.onEvent?.({ user: action.user, kind: action.kind, status, reason: action.reason, ...(error ? { error } : {}) });
    emit('begin');
    try {
      const networkError = networkErrors.get(action);
      if (networkError) throw networkError;
      const removedNetworks = await perform(engine, action, options);
      emit('done');
      return { action, ok: true, ...(removedNetworks.length > 0 ? { removedNetworks } : {}) };
    } catch (caught) {
      const error = toOcmError(caught, `${action.kind} ${action.user}`);
      emit('failed', error);
      return { action, ok: false, error };
    }
  };
  const first = await mapLimit(leftovers, concurrency, run);
  return [...first, ...(await mapLimit(rest, concurrency, run))];
}

async function perform(engine: ContainerEngine, action: ReconcileAction, options: ApplyOptions): Promise<string[]> {
  const stop = { timeoutSeconds: options.stopTimeoutSeconds ?? 10 };
  const healthy = async (desired: UserDeployment): Promise<void> => {
    if (options.health !== false) await waitHealthy(engine, desired, options.health ?? {});
  };
  switch (action.kind) {
    case 'leave':
      return [];
    case 'stop':
      await engine.stop(action.actual.name, stop);
      return [];
    case 'start':
      await engine.start(action.actual.name);
      await healthy(action.desired);
      return [];
    case 'recreate':
      // Make before break (see swap-container): a refused change leaves the old container running.
      await swapContainer(engine, action.desired, action.actual, {
        stopTimeoutSeconds: stop.timeoutSeconds,
        health: options.health === false ? false : options.health ?? {},
      });
      return [];
    case 'create':
      await startNew(engine, action.desired);
      await healthy(action.desired);
      return [];
    case 'remove': {
      await engine.stop(action.actual.name, stop);
      await engine.remove(action.actual.name);
      const removed: string[] = [];
      // A leftover's network is the user's own, still wanted.
      if (action.leftover === true) return removed;
      for (const network of action.actual.networks) {
        if (await engine.removeNetworkIfUnused(network)) removed.push(network);
      }
      return removed;
    }
  }
}

async function startNew(engine: ContainerEngine, desired: UserDeployment): Promise<void> {
  await engine.create(desired.container, desired.network);
  await engine.start(desired.container.name);
}
