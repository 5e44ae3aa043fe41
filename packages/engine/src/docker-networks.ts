// One bridge network per user with a fixed subnet, so the gateway's trusted
// proxy address is known before the container exists.
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_ROOT, OcmError, cidrsOverlap, quote, type NetworkSpec } from '@ocm/core';
import { docker, dockerMessage, dockerStatus, toOcmError } from './docker-errors.js';
import type { EnsureNetworkResult, SubnetCheckOptions } from './engine-types.js';

/**
 * Pure: does an existing network already have the driver, subnet and gateway
 * the spec wants? An overlay's gateway is Docker's own; what matters there is
 * that the relay on the manager may attach to it.
 */
export function networkMatches(info: Docker.NetworkInspectInfo, spec: NetworkSpec): boolean {
  const config = info.IPAM?.Config ?? [];
  const shape = info.Driver === (spec.driver ?? 'bridge') && config.length === 1 && config[0]?.Subnet === spec.subnet;
  if (spec.driver === 'overlay') return shape && (info as { Attachable?: boolean }).Attachable === true;
  return shape && config[0]?.Gateway === spec.gateway;
}

/** Exact-name lookup: Docker's name filter matches substrings and ids. */
export async function findNetwork(client: Docker, name: string): Promise<Docker.NetworkInspectInfo | undefined> {
  const all = await docker('list networks', () => client.listNetworks({ filters: { name: [name] } }));
  const hit = all.find((n) => n.Name === name);
  if (!hit) return undefined;
  return docker('inspect network', () => client.getNetwork(hit.Id).inspect());
}

export async function ensureNetwork(client: Docker, spec: NetworkSpec): Promise<EnsureNetworkResult> {
  const existing = await findNetwork(client, spec.name);
  if (!existing) return createOrJoin(client, spec, 'created');
  assertOurs(existing, spec);
  if (networkMatches(existing, spec)) return { id: existing.Id, name: spec.name, action: 'exists' };
  const attached = Object.values(existing.Containers ?? {}).map((c) => c.Name);
  if (attached.length > 0) {
    throw new OcmError(
      'OCM_E_NETWORK_CONFLICT',
      `network ${quote(spec.name)} has subnet ${quote(existing.IPAM?.Config?.[0]?.Subnet)} but ${quote(spec.subnet)} is wanted, and ${attached.join(', ')} still use it`,
      { hint: 'stop and remove the containers named, then retry', details: { network: spec.name, attached } },
    );
  }
  await docker('remove network', () => client.getNetwork(existing.Id).remove());
  return createOrJoin(client, spec, 'recreated');
}

/** Creates the network; if another process created it since our lookup, uses theirs when it is the same. */
async function createOrJoin(client: Docker, spec: NetworkSpec, action: 'created' | 'recreated'): Promise<EnsureNetworkResult> {
  const id = await createNetwork(client, spec);
  if (id !== undefined) return { id, name: spec.name, action };
  const other = await findNetwork(client, spec.name);
  if (!other) {
    throw new OcmError('OCM_E_DOCKER_FAILED', `Docker says network ${quote(spec.name)} exists, but it cannot be found`, { hint: 'another process may be removing it; retry', details: { network: spec.name } });
  }
  assertOurs(other, spec);
  if (!networkMatches(other, spec)) {
    throw new OcmError('OCM_E_NETWORK_CONFLICT', `network ${quote(spec.name)} was just created by another process with subnet ${quote(other.IPAM?.Config?.[0]?.Subnet)}, not ${quote(spec.subnet)}`, {
      hint: 'two ocm commands changed this root at once; retry', details: { network: spec.name },
    });
  }
  return { id: other.Id, name: spec.name, action: 'exists' };
}

function assertOurs(info: Docker.NetworkInspectInfo, spec: NetworkSpec): void {
  const labels = info.Labels ?? {};
  const wantedRoot = spec.labels[LABEL_ROOT];
  if (labels[LABEL_MANAGED] !== '1') {
    throw new OcmError('OCM_E_NOT_OURS', `network ${quote(spec.name)} exists but was not created by ocm`, {
      details: { network: spec.name },
    });
  }
  if (wantedRoot !== undefined && labels[LABEL_ROOT] !== undefined && labels[LABEL_ROOT] !== wantedRoot) {
    throw new OcmError('OCM_E_NOT_OURS', `network ${quote(spec.name)} belongs to the ocm root ${quote(labels[LABEL_ROOT])}`, {
      hint: `another deployment root on this host uses the same settings.project; give this root its own project in ocm.yaml, or remove the other with \`ocm --root ${labels[LABEL_ROOT]} down\``,
      details: { network: spec.name, root: labels[LABEL_ROOT] },
    });
  }
}

/**
 * Refuse a spec whose subnet Docker would refuse, before anything is written:
 * another network (not the spec's own, which ensureNetwork reuses or
 * recreates) already holds an overlapping subnet. A clashing network the
 * caller calls a leftover (`reclaim`) is removed instead, if no container
 * uses it; the names removed are returned.
 */
export async function assertSubnetFree(client: Docker, spec: NetworkSpec, options: SubnetCheckOptions = {}): Promise<string[]> {
  const all = await docker('list networks', () => client.listNetworks());
  const reclaimed: string[] = [];
  for (const network of all) {
    if (network.Name === spec.name) continue;
    const clash = (network.IPAM?.Config ?? []).find((c) => typeof c.Subnet === 'string' && cidrsOverlap(c.Subnet, spec.subnet));
    if (clash === undefined) continue;
    if (options.reclaim?.({ name: network.Name, labels: network.Labels ?? {} }) === true && (await removeNetworkIfUnused(client, network.Name))) {
      reclaimed.push(network.Name);
      continue;
    }
    throw new OcmError('OCM_E_NETWORK_CONFLICT', `subnet ${quote(spec.subnet)} for network ${quote(spec.name)} overlaps ${quote(clash.Subnet)} of the Docker network ${quote(network.Name)}`, {
      hint: `give this root its own settings.network.pool in ocm.yaml (a /16 no Docker network uses; \`docker network inspect ${network.Name}\` shows what it holds)`,
      details: { network: spec.name, subnet: spec.subnet, other: network.Name, otherSubnet: clash.Subnet },
    });
  }
  return reclaimed;
}

/** The new network's id; undefined when one of that name appeared meanwhile. */
async function createNetwork(client: Docker, spec: NetworkSpec): Promise<string | undefined> {
  try {
    const overlay = spec.driver === 'overlay';
    const network = await client.createNetwork({
      Name: spec.name,
      Driver: spec.driver ?? 'bridge',
      CheckDuplicate: true,
      // An overlay's gateway address is Docker's; spec.gateway names the relay there.
      IPAM: { Driver: 'default', Config: [overlay ? { Subnet: spec.subnet } : { Subnet: spec.subnet, Gateway: spec.gateway }] },
      ...(overlay ? { Attachable: true, Scope: 'swarm' } : {}),
      Labels: { ...spec.labels },
    });
    return network.id;
  } catch (error) {
    if (dockerStatus(error) === 409) return undefined;
    if (/overlaps/i.test(dockerMessage(error))) {
      // A process creating the same network holds its subnet before the name is listed.
      if (await appears(client, spec.name, 1000)) return undefined;
      throw new OcmError('OCM_E_NETWORK_CONFLICT', `subnet ${quote(spec.subnet)} for network ${quote(spec.name)} overlaps another Docker network`, { cause: error });
    }
    throw toOcmError(error, 'create network');
  }
}

async function appears(client: Docker, name: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if ((await findNetwork(client, name)) !== undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** Remove an ocm-labelled network nobody uses; anything else is left alone. */
export async function removeNetworkIfUnused(client: Docker, name: string): Promise<boolean> {
  const existing = await findNetwork(client, name);
  if (!existing || existing.Labels?.[LABEL_MANAGED] !== '1') return false;
  if (Object.keys(existing.Containers ?? {}).length > 0) return false;
  try {
    await client.getNetwork(existing.Id).remove();
    return true;
  } catch (error) {
    // Someone attached a container or removed it meanwhile: keeping it is the safe answer.
    if ([403, 404, 409].includes(dockerStatus(error) ?? 0)) return false;
    throw toOcmError(error, 'remove network');
  }
}
