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

/**
 * Makes this engine a single-node swarm manager for the test file, unless it
 * already is one. It leaves the swarm once the file's tests and all their
 * after hooks are done (the process's beforeExit): hooks run in the order
 * they were added, and a leave among them would come before the teardown of
 * the services, workers and roots added after it.
 */
export async function ensureSwarm(t: TestContext): Promise<void> {
  if ((await swarmManager()) !== undefined) return;
  try {
    await run('docker', ['swarm', 'init'], { timeout: 60_000 });
  } catch {
    // More than one address to advertise: the loopback one is enough for one node.
    await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { timeout: 60_000 });
  }
  t.diagnostic('this engine was made a single-node swarm manager; it leaves the swarm when the test file ends');
  let left = false;
  process.on('beforeExit', () => {
    if (left) return;
    left = true;
    void run('docker', ['swarm', 'leave', '--force'], { timeout: 60_000 }).catch(() => undefined);
  });
}
