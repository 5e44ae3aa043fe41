// dockerode is loaded only by commands that talk to Docker, so `ocm list`
// and `ocm --version` start fast. The root's settings.engine chooses the
// engine: one container per user (docker) or one service per user (swarm).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine } from '@ocm/engine';

type CliEngine = ContainerEngine & { version(): Promise<string> };
export type EngineKind = 'docker' | 'swarm';
let shared: Promise<CliEngine> | undefined;
let rootPath: string | undefined;

/** The deployment root whose ocm.yaml chooses the engine (the command's context sets it). */
export function useEngineOf(root: string): void {
  rootPath = root;
}

/** settings.engine of the root, docker when there is no manifest yet (or one the command will refuse anyway). */
async function engineKind(): Promise<EngineKind> {
  if (rootPath === undefined) return 'docker';
  const text = await readFile(join(rootPath, 'ocm.yaml'), 'utf8').catch(() => undefined);
  if (text === undefined || !/^\s*engine:\s*["']?swarm/m.test(text)) return 'docker';
  const { parseManifest } = await import('@ocm/core');
  try {
    return parseManifest(text).settings.engine ?? 'docker';
  } catch {
    return 'docker';
  }
}

/** One engine per process: `add`'s start joins the network creation its preflight began. */
export function makeEngine(kind?: EngineKind): Promise<CliEngine> {
  shared ??= (async () => {
    const { DockerEngine, SwarmEngine } = await import('@ocm/engine');
    const local = new DockerEngine();
    const engine = (kind ?? (await engineKind())) === 'swarm' ? new SwarmEngine(local) : local;
    return Object.assign(engine, {
      async version(): Promise<string> {
        const v = await local.docker.version();
        return `Docker Engine ${v.Version} (API ${v.ApiVersion})`;
      },
    });
  })();
  return shared;
}
