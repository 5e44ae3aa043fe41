// The tenant network policy on this host: planned from ocm.yaml, applied by
// `ocm up`, edits and the daemon, removed by `ocm down` and with the last
// user, checked (and probed from inside a gateway) by `ocm doctor`. One
// deployment's applies queue behind each other on a lock in its root.
import net from 'node:net';
import { planNetworkPolicy, userNetwork, type Manifest, type NetworkPolicyPlan } from '@ocm/core';
import { HostIptables, applyPolicy, checkPolicy, foreignJumps, hostResolvers, removePolicy, type ForeignJump, type Iptables, type PolicyChange, type PolicyProblem } from '@ocm/netpolicy';
import type { ContainerExec } from '@ocm/engine';
import { withDirLock } from '@ocm/store';
import type { OpsContext } from './context.js';

export interface PolicyContext extends OpsContext {
  /** The host firewall; the real iptables when absent. */
  firewall?: Iptables;
}

export interface PolicyResult {
  mode: NetworkPolicyPlan['mode'];
  changes: PolicyChange[];
  /** Set when the policy is off on purpose: say so, every time. */
  warning?: string;
}

const LOCK = '.netpolicy.lock';
const firewallOf = (ctx: PolicyContext): Iptables => ctx.firewall ?? new HostIptables();

export const OPEN_WARNING = 'settings.network.egress.policy is open: gateways can reach this host, the LAN and each other';
export const SWARM_POLICY_WARNING = 'settings.network.egress is not enforced on a swarm: a task leaves its overlay through docker_gwbridge, which the policy\'s rules do not cover; users are kept apart by their own overlays, but can reach the nodes, the LAN and the Internet';

export async function policyPlan(manifest: Manifest): Promise<NetworkPolicyPlan> {
  return planNetworkPolicy(manifest, { resolvers: await hostResolvers() });
}

const locked = <T>(ctx: OpsContext, fn: () => Promise<T>): Promise<T> =>
  withDirLock(ctx.root.path, LOCK, fn, 60_000, `${ctx.root.path} is applying its network policy in another process`);

/** Install or update the policy of the manifest (removes it when open or without users). */
export async function ensureNetworkPolicy(ctx: PolicyContext, manifest: Manifest): Promise<PolicyResult> {
  const plan = await policyPlan(manifest);
  const changes = await locked(ctx, () => applyPolicy(firewallOf(ctx), plan));
  if (changes.length > 0) await ctx.root.audit({ actor: ctx.actor, action: 'netpolicy.apply', details: { mode: plan.mode, changes: changes.map((c) => `${c.action}:${c.chain}`) } });
  const warning = manifest.settings.engine === 'swarm' && manifest.users.length > 0 ? SWARM_POLICY_WARNING : plan.mode === 'open' ? OPEN_WARNING : undefined;
  return { mode: plan.mode, changes, ...(warning === undefined ? {} : { warning }) };
}

/** Remove every rule of this deployment (`ocm down`). */
export async function removeNetworkPolicy(ctx: PolicyContext, manifest: Manifest): Promise<PolicyChange[]> {
  const changes = await locked(ctx, () => removePolicy(firewallOf(ctx), manifest.settings.project));
  if (changes.length > 0) await ctx.root.audit({ actor: ctx.actor, action: 'netpolicy.remove', details: { changes: changes.map((c) => `${c.action}:${c.chain}`) } });
  return changes;
}

export async function networkPolicyProblems(ctx: PolicyContext, manifest: Manifest): Promise<{ plan: NetworkPolicyPlan; problems: PolicyProblem[]; foreign: ForeignJump[] }> {
  const plan = await policyPlan(manifest);
  const firewall = firewallOf(ctx);
  return { plan, problems: await checkPolicy(firewall, plan), foreign: await foreignJumps(firewall, plan, manifest.settings.network.pool) };
}

// Run inside the gateway (its image has node): one TCP connect, its outcome printed.
const CONNECT = `const s=require('net').connect({host:process.argv[1],port:+process.argv[2]});const t=setTimeout(()=>{s.destroy();console.log('timeout')},2000);s.on('connect',()=>{clearTimeout(t);s.destroy();console.log('open')});s.on('error',(e)=>{clearTimeout(t);console.log(e.code||e.message)})`;

export interface ProbeOutcome { user: string; target: string; outcome: string }

/**
 * From inside a running gateway, connect to a listener this process opens on
 * every host address, through the user's bridge gateway: the policy must refuse it.
 */
export async function probeHostFromUser(engine: ContainerExec, manifest: Manifest, name: string, containerName: string): Promise<ProbeOutcome> {
  const user = manifest.users.find((u) => u.name === name);
  if (user === undefined) throw new Error(`no user ${name}`);
  const gateway = userNetwork(manifest, user).gateway;
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '0.0.0.0', resolve);
  });
  try {
    const port = (server.address() as net.AddressInfo).port;
    const r = await engine.exec(containerName, ['node', '-e', CONNECT, gateway, String(port)]);
    return { user: name, target: `${gateway}:${port}`, outcome: r.exitCode === 0 ? r.stdout.trim() : `probe failed: ${r.stderr.trim().slice(0, 200)}` };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
