// What `add` checks before it writes anything, when it is going to start the
// new user: Docker answers, the user's fixed /28 is not held by another
// network (Docker would refuse it only after ocm.yaml recorded the user), and
// the image is here or can be pulled. A refusal leaves the root as it was.
//
// Once every check passed, the user's network is created while the files are
// written (it takes Docker ~50 ms); the start that follows joins that
// creation. Should the write fail, `undo` takes the network away again.
import { LABEL_MANAGED, LABEL_ROOT, LABEL_USER, userLabels, userNetwork, type HostCapacity, type Manifest, type User } from '@ocm/core';
import type { ContainerEngine, EnsureNetworkResult, PullProgress } from '@ocm/engine';
import { ensureImages } from './images.js';
import type { Prepared } from './edit-pipeline.js';

export interface PreparedStart extends Prepared {
  /** Leftover networks of this root removed because they held the new user's subnet. */
  reclaimed: string[];
}

/**
 * A network of this root whose user is not in ocm.yaml: what an `add` killed
 * after its early network and before its write leaves behind. Removed (when
 * unused) instead of refusing the new user's subnet.
 */
function isLeftoverNetwork(manifest: Manifest, root: string, labels: Record<string, string>): boolean {
  const user = labels[LABEL_USER];
  return labels[LABEL_MANAGED] === '1' && labels[LABEL_ROOT] === root && user !== undefined && !manifest.users.some((u) => u.name === user);
}

export async function preflightStart(
  engine: ContainerEngine,
  manifest: Manifest,
  user: User,
  root: string,
  onPull?: (image: string, p: PullProgress) => void,
): Promise<PreparedStart> {
  await engine.ping();
  const network = userNetwork(manifest, user, userLabels(manifest, user.name, root));
  const reclaimed = await engine.assertSubnetFree(network, { reclaim: (n) => isLeftoverNetwork(manifest, root, n.labels) });
  await ensureImages(engine, [user.image ?? manifest.settings.image], onPull);
  // A failure here is not reported: the start's own ensureNetwork joins this
  // call, or repeats it, and reports it with the user's name.
  const early: Promise<EnsureNetworkResult | undefined> = engine.ensureNetwork(network).catch(() => undefined);
  return {
    reclaimed,
    async undo() {
      if ((await early)?.action === 'created') await engine.removeNetworkIfUnused(network.name);
    },
  };
}

export interface StartChecks {
  /** Docker's host, for the limits check; undefined when Docker does not answer (the start that follows says so). */
  hostCapacity: () => Promise<HostCapacity | undefined>;
  beforeWrite: (manifest: Manifest, user: User) => Promise<PreparedStart>;
}

export interface StartCheckOptions {
  onPull?: (image: string, p: PullProgress) => void;
  /** A leftover network of an interrupted add was removed: it held the new user's subnet. */
  onReclaimed?: (network: string, user: string) => void;
}

/**
 * What an add that will start its gateway passes to addUser, the same for the
 * CLI and the admin API: the host-capacity check and preflightStart. The
 * engine is asked for only when a check runs (the CLI loads Docker lazily).
 */
export function startChecks(engine: () => Promise<ContainerEngine>, root: string, options: StartCheckOptions = {}): StartChecks {
  return {
    hostCapacity: async () => (await engine()).capacity().catch(() => undefined),
    beforeWrite: async (manifest, user) => {
      const prepared = await preflightStart(await engine(), manifest, user, root, options.onPull);
      for (const network of prepared.reclaimed) options.onReclaimed?.(network, user.name);
      return prepared;
    },
  };
}
