// Where a new user runs on a swarm root: the node asked for, checked against
// the swarm, or the one with the most room that can hold her state. The CLI,
// the admin API and import all place through here.
import { OcmError, chooseNode, type Manifest, type PlacementNode } from '@ocm/core';
import type { EngineHost } from '@ocm/engine';

/** The swarm's nodes, when the engine is a swarm's. */
interface NodeLister {
  nodes(): Promise<PlacementNode[]>;
}

const listsNodes = (engine: object): engine is NodeLister => typeof (engine as Partial<NodeLister>).nodes === 'function';

/** The node for a new user on a swarm root; undefined on one host (where a node asked for is refused). */
export async function nodeForNewUser(engine: EngineHost, manifest: Manifest, wanted?: string): Promise<string | undefined> {
  if (manifest.settings.engine !== 'swarm') {
    if (wanted !== undefined) throw new OcmError('OCM_E_USAGE', 'a node only applies to a swarm root (settings.engine: swarm)', { hint: 'leave the node out; this root runs every user on this host' });
    return undefined;
  }
  if (!listsNodes(engine)) throw new OcmError('OCM_E_INTERNAL', 'a swarm root without the swarm engine');
  await engine.ping();
  return chooseNode(manifest, await engine.nodes(), wanted);
}
