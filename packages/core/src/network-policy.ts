// The tenant network policy as data: which iptables chains ocm owns for this
// deployment and the exact rules in them, worked out from the manifest alone
// (plus the host's DNS resolvers). Traffic from user networks may reach the
// Internet; the host, private/link-local/CGNAT/metadata ranges and the other
// user networks are refused, except what the allow-lists open.
import { parseEgressEntry, formatEgressEntry, type EgressEntry } from './egress-entry.js';
import type { Manifest } from './manifest-schema.js';
import { userNetwork } from './plan.js';

/** Ranges a tenant never reaches unless allowed: RFC 1918, CGNAT, link-local (cloud metadata), "this network". */
export const BLOCKED_RANGES = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] as const;

export type EgressMode = 'restricted' | 'open';

/** One rule inside an ocm chain, in the exact form `iptables -S <chain>` prints it (after "-A <chain>"). */
export type RuleArgs = readonly string[];

export interface PolicyChain {
  name: string;
  /** The built-in or Docker chain that jumps here. */
  from: 'DOCKER-USER' | 'INPUT';
  /** The jump's match and target, as `iptables -S` prints it. */
  jump: RuleArgs;
  rules: RuleArgs[];
}

export interface UserEgress {
  name: string;
  subnet: string;
  mode: EgressMode;
  /** Canonical allow entries in force for this user: the shared ones, then the user's own. */
  allow: string[];
}

export interface NetworkPolicyPlan {
  project: string;
  mode: EgressMode;
  /** IPv4 chains, forward (DOCKER-USER) first, then input. Empty when open or without users. */
  chains: PolicyChain[];
  /** Every chain name this deployment may own, installed or not: what teardown removes. */
  chainNames: string[];
  users: UserEgress[];
}

export interface PolicyInput {
  /** IPv4 nameservers the host (and so Docker's embedded DNS) forwards to. */
  resolvers: readonly string[];
}

export function policyChainNames(project: string): { forward: string; input: string } {
  return { forward: `OCM-${project}-FWD`, input: `OCM-${project}-IN` };
}

const ESTABLISHED: RuleArgs = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'];
const REJECT = ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'] as const;

function allowRules(source: string | undefined, entry: EgressEntry): RuleArgs[] {
  const from = source === undefined ? [] : ['-s', source];
  if (entry.port === undefined) return [[...from, '-d', entry.cidr, '-j', 'RETURN']];
  return ['tcp', 'udp'].map((p) => [...from, '-d', entry.cidr, '-p', p, '-m', p, '--dport', String(entry.port), '-j', 'RETURN']);
}

function dnsRules(resolvers: readonly string[]): RuleArgs[] {
  return resolvers.flatMap((r) => allowRules(undefined, { cidr: `${r}/32`, port: 53 }));
}

export function userEgress(manifest: Manifest, name: string): UserEgress {
  const user = manifest.users.find((u) => u.name === name);
  const egress = manifest.settings.network.egress;
  const mode: EgressMode = egress?.policy ?? 'restricted';
  const entries = [...(egress?.allow ?? []), ...(user?.egress?.allow ?? [])].map((e) => formatEgressEntry(parseEgressEntry(e)));
  const subnet = user === undefined ? '' : userNetwork(manifest, user).subnet;
  return { name, subnet, mode, allow: [...new Set(entries)] };
}

/** The configured host ports, plus the model meter's when providers are metered. */
function meteredHostPorts(manifest: Manifest): number[] {
  const ports = [...(manifest.settings.network.egress?.hostPorts ?? [])];
  const models = manifest.settings.models;
  if (models !== undefined && Object.keys(models.providers).length > 0 && !ports.includes(models.listenPort)) ports.push(models.listenPort);
  return ports;
}

export function planNetworkPolicy(manifest: Manifest, input: PolicyInput): NetworkPolicyPlan {
  const { project, network } = manifest.settings;
  const names = policyChainNames(project);
  const mode: EgressMode = network.egress?.policy ?? 'restricted';
  const users = manifest.users.map((u) => userEgress(manifest, u.name));
  const base = { project, mode, chainNames: [names.forward, names.input], users };
  // A swarm task leaves its overlay through docker_gwbridge, under an address
  // these subnet rules never see: no rules there (ocm doctor and up say so).
  if (mode === 'open' || manifest.users.length === 0 || manifest.settings.engine === 'swarm') return { ...base, chains: [] };

  const shared = (network.egress?.allow ?? []).map(parseEgressEntry);
  const allows: RuleArgs[] = [];
  for (const u of manifest.users) {
    const subnet = userNetwork(manifest, u).subnet;
    for (const entry of (u.egress?.allow ?? []).map(parseEgressEntry)) allows.push(...allowRules(subnet, entry));
  }
  for (const entry of shared) allows.push(...allowRules(undefined, entry));
  const hostPorts: RuleArgs[] = [];
  for (const u of manifest.users) {
    const net = userNetwork(manifest, u);
    for (const port of meteredHostPorts(manifest)) {
      hostPorts.push(['-s', net.subnet, '-d', `${net.gateway}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-j', 'RETURN']);
    }
  }
  const dns = dnsRules(input.resolvers);
  // Forwarded: another user's network is refused before any allow, so no
  // allow-list entry can open a neighbour; the rest falls through to Docker's rules.
  const forward: PolicyChain = {
    name: names.forward, from: 'DOCKER-USER', jump: ['-s', network.pool, '-j', names.forward],
    rules: [ESTABLISHED, ['-d', network.pool, ...REJECT], ...dns, ...allows, ...BLOCKED_RANGES.map((r) => ['-d', r, ...REJECT])],
  };
  // To the host itself, any of its addresses: only replies, DNS, the ports
  // ocm serves to gateways and what the allow-lists name.
  const inbound: PolicyChain = {
    name: names.input, from: 'INPUT', jump: ['-s', network.pool, '-j', names.input],
    rules: [ESTABLISHED, ...dns, ...hostPorts, ...allows, [...REJECT]],
  };
  return { ...base, chains: [forward, inbound] };
}
