// A swarm on this test's engine: joined if the engine is not a manager yet
// (`docker swarm init`), and left again when the test ends, only by the test
// that made it. Nothing else of the engine is touched.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { getDocker } from './docker.js';

const run = promisify(execFile);

/** This engine's swarm state: the node id when it manages a swarm, else undefined. */
export async function swarmManager(): Promise<string | undefined> {
  const info = (await getDocker().info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
  return info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable === true ? info.Swarm.NodeID : undefined;
}

/** The manager's own node host name, as `docker node ls` and placement constraints name it. */
export async function managerHostname(): Promise<string> {
  const id = await swarmManager();
  if (id === undefined) throw new Error('not a swarm manager');
  const node = (await getDocker().getNode(id).inspect()) as { Description?: { Hostname?: string } };
  return node.Description?.Hostname ?? '';
}

/** Makes this engine a single-node swarm manager for the test, unless it already is one. */
export async function ensureSwarm(t: TestContext): Promise<void> {
  if ((await swarmManager()) !== undefined) return;
  try {
    await run('docker', ['swarm', 'init'], { timeout: 60_000 });
  } catch {
    // More than one address to advertise: the loopback one is enough for one node.
    await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { timeout: 60_000 });
  }
  t.after(async () => {
    await run('docker', ['swarm', 'leave', '--force'], { timeout: 60_000 }).catch(() => undefined);
  });
}
