// Where a new user runs on a swarm root: the node asked for, checked against
// the swarm, or the one with the most room that can hold her state. The CLI,
// the admin API and import all place through here.
import { OcmError, chooseNode, holdsState, type Manifest, type PlacementNode } from '@ocm/core';
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

/** The swarm's nodes when the engine is a swarm's; undefined on one host. */
export async function swarmNodes(engine: EngineHost): Promise<PlacementNode[] | undefined> {
  return listsNodes(engine) ? engine.nodes() : undefined;
}

/** Pure: what doctor says of the node a swarm user is pinned to. */
export function nodeFinding(manifest: Manifest, nodes: readonly PlacementNode[], user: string, node: string | undefined): { ok: boolean; detail: string; fix?: string } {
  const self = nodes.find((n) => n.self === true)?.hostname ?? 'this node';
  if (node === undefined) return { ok: false, detail: 'pinned to no node: swarm may start her anywhere, away from her state', fix: `ocm move ${user} --to ${self}` };
  const found = nodes.find((n) => n.hostname === node);
  if (found === undefined) return { ok: false, detail: `pinned to ${node}, which is not a node of this swarm`, fix: `bring ${node} back into the swarm, or move her: ocm move ${user} --to <node>` };
  if (!holdsState(manifest, found)) {
    return { ok: false, detail: `pinned to ${node}, but ocm keeps users' state on this manager (${self})`, fix: `ocm move ${user} --to ${self}, or set settings.swarm.sharedState: true if <root>/users is shared with ${node}` };
  }
  if (found.state !== 'ready' || found.availability !== 'active') {
    return { ok: false, detail: `pinned to ${node}, which is ${found.state} and ${found.availability}`, fix: `bring ${node} back (docker node ls), or move her to a ready node: ocm move ${user} --to <node>` };
  }
  return { ok: true, detail: `pinned to ${node} (ready)` };
}
