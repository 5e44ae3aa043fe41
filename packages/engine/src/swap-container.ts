// Make before break: a changed user gets her new container created beside the
// old one, and the old one is only stopped once Docker accepted the new. If
// Docker refuses it, or the gateway will not come up in it, the old container
// is put back under its name and started again: a refused change never takes
// a running user down.
import { OcmError, quote, type UserDeployment } from '@ocm/core';
import { toOcmError } from './docker-errors.js';
import { updatesInPlace, type ContainerEngine, type InPlaceUpdates, type ObservedContainer } from './engine-types.js';
import { waitHealthy, type WaitHealthyOptions } from './wait-healthy.js';

/** The new container's name until it takes over. */
export const nextName = (name: string): string => `${name}.next`;
/** The old container's name while the new one starts. */
export const prevName = (name: string): string => `${name}.prev`;

/** Pure: the user container a swap leftover (`<name>.next`, `<name>.prev`) stands in for, or undefined. */
export function swapLeftoverOf(name: string): string | undefined {
  const match = /^(.+)\.(?:next|prev)$/.exec(name);
  return match?.[1];
}

export interface SwapOptions {
  stopTimeoutSeconds?: number;
  /** Wait for the new gateway to answer before the old container goes (default: wait). */
  health?: WaitHealthyOptions | false;
}

const LIVE = new Set(['running', 'restarting']);

/**
 * Replace `actual` with a container of `desired`'s spec. Throws
 * OCM_E_CHANGE_REFUSED (cause: Docker's or the health check's error) when the
 * new container was refused and the old one is back under its name, started
 * again if it ran before.
 */
export async function swapContainer(
  engine: ContainerEngine,
  desired: UserDeployment,
  actual: ObservedContainer,
  options: SwapOptions = {},
): Promise<void> {
  const stop = { timeoutSeconds: options.stopTimeoutSeconds ?? 10 };
  const name = desired.container.name;
  try {
    await engine.ensureNetwork(desired.network);
  } catch (error) {
    // The network itself changes (a new pool): it cannot be replaced while the
    // old container uses it, so this one change is break-before-make.
    if ((error as OcmError).code !== 'OCM_E_NETWORK_CONFLICT') throw error;
    await engine.stop(name, stop);
    await engine.remove(name);
    await engine.ensureNetwork(desired.network);
    await engine.create(desired.container, desired.network);
    await engine.start(name);
    if (options.health !== false) await waitHealthy(engine, desired, options.health ?? {});
    return;
  }
  if (updatesInPlace(engine)) return swapInPlace(engine, desired, actual, options);
  await removeIfPresent(engine, nextName(name));
  await removeIfPresent(engine, prevName(name));
  let id: string;
  try {
    // Created, not started: the state tree still has one writer, the old gateway.
    id = await engine.create({ ...desired.container, name: nextName(name) }, desired.network);
  } catch (caught) {
    throw refused(desired, toOcmError(caught, `create ${name}`), 'Docker refused the new container');
  }
  const wasLive = LIVE.has(actual.state);
  const oldPort = Number((await engine.find(name))?.hostPorts[`${desired.container.containerPort}/tcp`]?.[0]);
  await engine.stop(name, stop);
  await engine.rename(name, prevName(name));
  try {
    await engine.rename(id, name);
    await engine.start(name);
    if (options.health !== false) await waitHealthy(engine, desired, options.health ?? {});
  } catch (caught) {
    const cause = toOcmError(caught, `start ${name}`);
    try {
      await engine.remove(id);
      await engine.rename(prevName(name), name);
      if (wasLive) {
        await engine.start(name);
        // Back as it was: wait until it answers again (on its own port), so "runs on" is true when said.
        const old = { ...desired, container: { ...desired.container, hostPort: Number.isInteger(oldPort) ? oldPort : desired.container.hostPort } };
        if (options.health !== false) await waitHealthy(engine, old, options.health ?? {});
      }
    } catch (rollbackCaught) {
      const rollback = toOcmError(rollbackCaught, `put back ${name}`);
      throw new OcmError('OCM_E_CHANGE_REFUSED', `${quote(desired.name)}'s new container failed (${cause.message}), and putting the old one back failed too: ${rollback.message}`, {
        cause: rollback,
        hint: `run \`ocm up ${desired.name}\` once the cause is fixed; the user's state is untouched`,
        details: { user: desired.name, kept: false },
      });
    }
    throw refused(desired, cause, `${desired.name}'s gateway did not come up with the change`);
  }
  await engine.remove(prevName(name));
}

/**
 * A swarm service changes in place: Docker validates the new spec before it
 * touches the running task (a refused spec changes nothing), then stops the
 * old task before it starts the new one (one writer). A new task that does
 * not come up healthy is rolled back to the spec before.
 */
async function swapInPlace(engine: ContainerEngine & InPlaceUpdates, desired: UserDeployment, actual: ObservedContainer, options: SwapOptions): Promise<void> {
  const name = desired.container.name;
  try {
    await engine.update(desired.container, desired.network);
  } catch (caught) {
    throw refused(desired, toOcmError(caught, `update ${name}`), 'Docker refused the new service spec');
  }
  const timeoutMs = (options.health === false ? undefined : options.health?.timeoutMs) ?? 120_000;
  try {
    // Until swarm has swapped the task, the old one may still answer for her.
    await engine.waitUpdated(name, timeoutMs);
    if (options.health !== false) await waitHealthy(engine, desired, options.health ?? {});
  } catch (caught) {
    const cause = toOcmError(caught, `start ${name}`);
    try {
      await engine.rollback(desired.container, desired.network);
      await engine.waitUpdated(name, timeoutMs, true);
      if (!LIVE.has(actual.state)) await engine.stop(name, { timeoutSeconds: options.stopTimeoutSeconds ?? 10 });
      else if (options.health !== false) await waitHealthy(engine, desired, options.health ?? {});
    } catch (rollbackCaught) {
      const rollback = toOcmError(rollbackCaught, `roll back ${name}`);
      throw new OcmError('OCM_E_CHANGE_REFUSED', `${quote(desired.name)}'s changed service failed (${cause.message}), and rolling it back failed too: ${rollback.message}`, {
        cause: rollback,
        hint: `run \`ocm up ${desired.name}\` once the cause is fixed; the user's state is untouched`,
        details: { user: desired.name, kept: false },
      });
    }
    throw refused(desired, cause, `${desired.name}'s gateway did not come up with the change`);
  }
}

function refused(desired: UserDeployment, cause: OcmError, what: string): OcmError {
  return new OcmError('OCM_E_CHANGE_REFUSED', `${what} (${cause.message}); ${desired.name} runs on with the previous settings`, {
    cause,
    ...(cause.hint === undefined ? {} : { hint: cause.hint }),
    details: { user: desired.name, kept: true, ...cause.details },
  });
}

async function removeIfPresent(engine: ContainerEngine, name: string): Promise<void> {
  try {
    await engine.remove(name);
  } catch (error) {
    if ((error as OcmError).code !== 'OCM_E_CONTAINER_MISSING') throw error;
  }
}
