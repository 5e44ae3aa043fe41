// Real-engine plumbing for engine tests on top of the shared test support:
// one run (name prefix + deployment root) per test file, reaped by label.
import { after, before } from 'node:test';
import { pack } from 'tar-stream';
import type Docker from 'dockerode';
import type { UserDeployment } from '@ocm/core';
import { DockerEngine } from '@ocm/engine';
import {
  FIXTURE_IMAGE,
  RUN_ID,
  RUN_LABEL,
  ensureFixtureImage,
  getDocker,
  reapTestObjects,
  removeTree,
  tmpRoot,
  type AfterHook,
} from '../../../test/support/docker.js';
import type { TestRun } from './factory.js';

export interface DockerTestContext {
  run: TestRun;
  docker: Docker;
  engine: DockerEngine;
}

/**
 * Call at the top level of a test file: registers `before` (fixture image) and
 * `after` (remove this run's containers, networks, images and root) right away.
 */
export function dockerTestContext(): DockerTestContext {
  const docker = getDocker();
  const root = tmpRoot(undefined, 'ocm-engine-');
  before(() => ensureFixtureImage(FIXTURE_IMAGE, docker));
  after(async () => {
    await reapTestObjects(docker, { run: RUN_ID });
    const images = await docker.listImages({ filters: { label: [`${RUN_LABEL}=${RUN_ID}`] } });
    for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
    await removeTree(root, docker);
  });
  return { run: { id: `t${RUN_ID}`, root }, docker, engine: new DockerEngine({ docker }) };
}

/** Remove the users' containers and networks when the test ends (keeps few healthchecks running at once). */
export function removeAfter(t: AfterHook, docker: Docker, ...users: UserDeployment[]): void {
  t.after(async () => {
    for (const user of users) {
      await docker.getContainer(user.container.name).remove({ force: true }).catch(() => undefined);
      await docker.getNetwork(user.network.name).remove().catch(() => undefined);
    }
  });
}

/** Build an image FROM the fixture plus `lines` (e.g. an ENV switch), labelled with this run for the reaper. */
export async function buildDerivedImage(docker: Docker, tag: string, lines: string[]): Promise<void> {
  const dockerfile = [`FROM ${FIXTURE_IMAGE}`, ...lines, `LABEL ocm.test="1" ${RUN_LABEL}="${RUN_ID}"`, ''].join('\n');
  const tar = pack();
  tar.entry({ name: 'Dockerfile' }, dockerfile);
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }> | undefined) => {
      const failed = output?.find((o) => o.error)?.error;
      if (error) reject(error);
      else if (failed) reject(new Error(failed));
      else resolve();
    });
  });
}
