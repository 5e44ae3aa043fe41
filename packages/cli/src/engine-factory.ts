// dockerode is loaded only by commands that talk to Docker, so `ocm list`
// and `ocm --version` start fast.
import type { ContainerEngine } from '@ocm/engine';

type CliEngine = ContainerEngine & { version(): Promise<string> };
let shared: Promise<CliEngine> | undefined;

/** One engine per process: `add`'s start joins the network creation its preflight began. */
export function makeEngine(): Promise<CliEngine> {
  shared ??= (async () => {
    const { DockerEngine } = await import('@ocm/engine');
    const engine = new DockerEngine();
    return Object.assign(engine, {
      async version(): Promise<string> {
        const v = await engine.docker.version();
        return `Docker Engine ${v.Version} (API ${v.ApiVersion})`;
      },
    });
  })();
  return shared;
}
