// Upgrades migrate state at start and a bad image crash-loops, so move one
// user at a time, gate on health, and put the old image back on failure.
import { LABEL_MANAGED, LABEL_SPEC_HASH, OcmError, quote, type ContainerSpec, type UserDeployment } from '@ocm/core';
import { noSuchContainer, toOcmError } from './docker-errors.js';
import type { ContainerEngine } from './engine-types.js';
import { waitHealthy, type WaitHealthyOptions } from './wait-healthy.js';

export interface UpgradeReport {
  user: string;
  from: string;
  to: string;
  /** unchanged: the user already runs the very image (same tag, same id); nothing was restarted. */
  result: 'upgraded' | 'rolled-back' | 'unchanged';
  /** Why the new image was rolled back (OCM_E_UPGRADE_FAILED, cause = the health failure). */
  error?: OcmError;
  durationMs: number;
}

export interface UpgradeOptions extends WaitHealthyOptions {
  stopTimeoutSeconds?: number;
}

/**
 * Replace the user's container with one running newImage. Resolves with
 * 'upgraded' or 'rolled-back'; throws OCM_E_UPGRADE_FAILED only when even the
 * old image could not be brought back healthy (its container is still started).
 */
export async function upgradeUser(
  engine: ContainerEngine,
  user: UserDeployment,
  newImage: string,
  options: UpgradeOptions = {},
): Promise<UpgradeReport> {
  const started = Date.now();
  const name = user.container.name;
  const old = await engine.find(name);
  if (old === undefined) throw noSuchContainer(name);
  if (old.labels[LABEL_MANAGED] !== '1') {
    throw new OcmError('OCM_E_NOT_OURS', `container ${quote(name)} was not created by ocm; not upgrading it`);
  }
  if (!(await engine.imageExists(newImage))) {
    throw new OcmError('OCM_E_IMAGE_MISSING', `image ${quote(newImage)} is not on this host`, { details: { image: newImage } });
  }
  const from = old.image;
  const fromId = await engine.imageId(from);
  const report = { user: user.name, from, to: newImage };
  // The same tag still naming the image she runs: an upgrade would only restart her.
  if (from === newImage && fromId === old.imageId && old.state === 'running') {
    return { ...report, result: 'unchanged', durationMs: Date.now() - started };
  }
  // If the tag moved (e.g. latest was re-pulled), only the old image id brings back the old gateway.
  const rollbackImage = fromId === old.imageId ? from : old.imageId;
  const oldHash = old.labels[LABEL_SPEC_HASH];

  try {
    await replace(engine, user, { ...user.container, image: newImage }, options);
    await waitHealthy(engine, user, options);
    return { ...report, result: 'upgraded', durationMs: Date.now() - started };
  } catch (caught) {
    const cause = toOcmError(caught, `upgrade ${user.name}`);
    const error = new OcmError('OCM_E_UPGRADE_FAILED', `upgrade of ${quote(user.name)} to ${quote(newImage)} failed, rolled back to ${quote(from)}: ${cause.message}`, {
      cause,
      details: { ...report, ...cause.details },
    });
    // The old hash label keeps the next reconcile from mistaking the rollback for the new spec.
    const labels = { ...user.container.labels, ...(oldHash === undefined ? {} : { [LABEL_SPEC_HASH]: oldHash }) };
    try {
      await replace(engine, user, { ...user.container, image: rollbackImage, labels }, options);
      await waitHealthy(engine, user, options);
    } catch (rollbackCaught) {
      const rollbackError = toOcmError(rollbackCaught, `roll back ${user.name}`);
      throw new OcmError('OCM_E_UPGRADE_FAILED', `upgrade of ${quote(user.name)} to ${quote(newImage)} failed, and so did going back to ${quote(from)}: ${rollbackError.message}`, {
        cause: rollbackError,
        hint: `the old image was started again but is not healthy; read \`ocm logs ${user.name}\``,
        details: { ...report, upgradeError: cause.message, ...rollbackError.details },
      });
    }
    return { ...report, result: 'rolled-back', error, durationMs: Date.now() - started };
  }
}

/** Stop and remove whatever holds the name (single writer to state), then create and start spec. */
async function replace(engine: ContainerEngine, user: UserDeployment, spec: ContainerSpec, options: UpgradeOptions): Promise<void> {
  const stop = { timeoutSeconds: options.stopTimeoutSeconds ?? 10 };
  if ((await engine.find(spec.name)) !== undefined) {
    await engine.stop(spec.name, stop);
    await engine.remove(spec.name);
  }
  await engine.ensureNetwork(user.network);
  await engine.create(spec, user.network);
  await engine.start(spec.name);
}
