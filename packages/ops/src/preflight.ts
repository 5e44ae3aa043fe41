// What `add` checks before it writes anything, when it is going to start the
// new user: Docker answers, the user's fixed /28 is not held by another
// network (Docker would refuse it only after ocm.yaml recorded the user), and
// the image is here or can be pulled. A refusal leaves the root as it was.
import { userNetwork, type Manifest, type User } from '@ocm/core';
import type { ContainerEngine, PullProgress } from '@ocm/engine';
import { ensureImages } from './images.js';

export async function preflightStart(
  engine: ContainerEngine,
  manifest: Manifest,
  user: User,
  onPull?: (image: string, p: PullProgress) => void,
): Promise<void> {
  await engine.ping();
  await engine.assertSubnetFree(userNetwork(manifest, user));
  await ensureImages(engine, [user.image ?? manifest.settings.image], onPull);
}
