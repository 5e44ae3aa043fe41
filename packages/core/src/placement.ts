// Where a new swarm user goes: the ready node with the most memory left once
// the limits of the users already placed there are counted. Pure.
import { OcmError, quote } from './errors.js';
import type { Manifest } from './manifest-schema.js';
import { effectiveLimits } from './plan.js';
import { parseSize } from './sizes.js';

export interface PlacementNode {
  hostname: string;
  /** The manager ocm runs on: where it keeps users' state unless settings.swarm.sharedState. */
  self?: boolean;
  /** Docker's node state: ready, down... */
  state: string;
  /** active, pause or drain. */
  availability: string;
  memoryBytes: number;
}

/** Memory each node has left for new users: its own less the limits of the users pinned to it. */
export function nodeHeadroom(manifest: Manifest, nodes: readonly PlacementNode[]): Map<string, number> {
  const free = new Map(nodes.map((n) => [n.hostname, n.memoryBytes]));
  for (const user of manifest.users) {
    if (user.node === undefined || !free.has(user.node)) continue;
    free.set(user.node, (free.get(user.node) ?? 0) - parseSize(effectiveLimits(manifest, user).memory));
  }
  return free;
}

const usable = (n: PlacementNode): boolean => n.state === 'ready' && n.availability === 'active';

/** Can a user's state be on this node? On this manager always; elsewhere only on shared storage. */
export function holdsState(manifest: Manifest, node: PlacementNode): boolean {
  return node.self === true || manifest.settings.swarm?.sharedState === true;
}

function notShared(wanted: string): OcmError {
  return new OcmError('OCM_E_NODE_UNKNOWN', `${quote(wanted)} is not this manager, and ocm keeps users' state on this manager`, {
    hint: 'set settings.swarm.sharedState: true once <root>/users is on storage every node mounts at the same path (e.g. NFS); until then users run on this node',
    details: { node: wanted },
  });
}

/**
 * The node for a user: the one asked for (a ready, active node of the swarm
 * that can hold her state), else the usable node with the most headroom
 * among those; ties go to the first host name in order, so the choice is
 * repeatable. Without shared state that is this manager.
 */
export function chooseNode(manifest: Manifest, nodes: readonly PlacementNode[], wanted?: string): string {
  if (wanted !== undefined) {
    const node = nodes.find((n) => n.hostname === wanted);
    if (node === undefined) {
      throw new OcmError('OCM_E_NODE_UNKNOWN', `${quote(wanted)} is not a node of this swarm (nodes: ${nodes.map((n) => n.hostname).join(', ') || 'none'})`, { details: { node: wanted } });
    }
    if (!usable(node)) {
      throw new OcmError('OCM_E_NODE_UNKNOWN', `node ${quote(wanted)} is ${node.state} and ${node.availability}; a user can only be placed on a ready, active node`, {
        hint: `\`docker node update --availability active ${wanted}\` once it is back, or choose another node`, details: { node: wanted },
      });
    }
    if (!holdsState(manifest, node)) throw notShared(wanted);
    return wanted;
  }
  const headroom = nodeHeadroom(manifest, nodes);
  const best = nodes.filter((n) => usable(n) && holdsState(manifest, n)).sort((a, b) => (headroom.get(b.hostname) ?? 0) - (headroom.get(a.hostname) ?? 0) || (a.hostname < b.hostname ? -1 : 1))[0];
  if (best === undefined) throw new OcmError('OCM_E_NODE_UNKNOWN', 'this swarm has no ready, active node that can hold a user\'s state', { hint: '`docker node ls` shows the nodes and their state; without settings.swarm.sharedState only this manager can' });
  return best.hostname;
}
