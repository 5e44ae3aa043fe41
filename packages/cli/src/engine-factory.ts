// dockerode is loaded only by commands that talk to Docker, so `ocm list`
// and `ocm --version` start fast.
import type { ContainerEngine } from '@ocm/engine';

export async function makeEngine(): Promise<ContainerEngine & { version(): Promise<string> }> {
  const { DockerEngine } = await import('@ocm/engine');
  const engine = new DockerEngine();
  return Object.assign(engine, {
    async version(): Promise<string> {
      const v = await engine.docker.version();
      return `Docker Engine ${v.Version} (API ${v.ApiVersion})`;
    },
  });
}
