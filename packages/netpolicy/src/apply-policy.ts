// Brings the host's firewall in line with a planned policy, like reconcile
// does for containers: chains that match are left alone, a chain that
// differs is rebuilt behind a temporary hold that refuses new connections
// (so it fails closed) and lets replies through, the
// jump into it is added once at the top of DOCKER-USER / INPUT, and chains
// the plan no longer wants are emptied and removed. Only this deployment's
// chains and the jumps into them are ever touched, each by its exact spec.
import { OcmError, cidrsOverlap, policyChainNames, type NetworkPolicyPlan, type PolicyChain, type RuleArgs } from '@ocm/core';
import type { Iptables } from './iptables.js';

export interface PolicyChange {
  action: 'create-chain' | 'rebuild-chain' | 'add-jump' | 'remove-jump' | 'remove-chain';
  chain: string;
  detail: string;
}

/** The chains that jump into ocm's own; a deployment's jumps live only here. */
export const HOOK_CHAINS = ['DOCKER-USER', 'INPUT'] as const;

/**
 * Holds a chain shut while its rules are replaced: new connections are
 * refused, but replies still flow. The host's own connections into the
 * gateways (the published ports' proxy, health probes, nginx) are answered
 * through the input chain; a hold that refused their replies would cut every
 * user off from the host for the rebuild and, if ocm were killed halfway,
 * until the next `ocm up`.
 */
export const REBUILD_HOLD: RuleArgs = ['-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED', '-m', 'comment', '--comment', 'ocm-rebuilding', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'];

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((w, i) => w === b[i]);

/** Does this rule jump to the chain (whatever its match)? */
const jumpsTo = (rule: readonly string[], chain: string): boolean => rule.at(-2) === '-j' && rule.at(-1) === chain;

async function ensureChain(ipt: Iptables, chain: PolicyChain): Promise<PolicyChange[]> {
  if (!(await ipt.hasChain(chain.name))) {
    await ipt.newChain(chain.name);
    for (const rule of chain.rules) await ipt.append(chain.name, rule);
    return [{ action: 'create-chain', chain: chain.name, detail: `${chain.rules.length} rules` }];
  }
  const actual = await ipt.rules(chain.name);
  if (actual.length === chain.rules.length && actual.every((r, i) => same(r, chain.rules[i] ?? []))) return [];
  await ipt.insert(chain.name, 1, REBUILD_HOLD);
  for (const rule of actual) await ipt.delete(chain.name, rule);
  for (const rule of chain.rules) await ipt.append(chain.name, rule);
  await ipt.delete(chain.name, REBUILD_HOLD);
  return [{ action: 'rebuild-chain', chain: chain.name, detail: `${actual.length} -> ${chain.rules.length} rules` }];
}

/** Exactly one jump, the planned one; any other jump into the chain (an older pool, a duplicate) goes. */
async function ensureJump(ipt: Iptables, chain: PolicyChain): Promise<PolicyChange[]> {
  if (!(await ipt.hasChain(chain.from))) {
    throw new OcmError('OCM_E_FIREWALL_FAILED', `the ${chain.from} chain does not exist, so the network policy cannot be hooked in`, {
      hint: chain.from === 'DOCKER-USER' ? 'Docker makes DOCKER-USER when it manages iptables: start Docker (without --iptables=false), then run `ocm up`' : 'check the host firewall (iptables -S)',
    });
  }
  const changes: PolicyChange[] = [];
  let kept = false;
  for (const rule of await ipt.rules(chain.from)) {
    if (!jumpsTo(rule, chain.name)) continue;
    if (!kept && same(rule, chain.jump)) {
      kept = true;
      continue;
    }
    await ipt.delete(chain.from, rule);
    changes.push({ action: 'remove-jump', chain: chain.from, detail: rule.join(' ') });
  }
  if (!kept) {
    await ipt.insert(chain.from, 1, chain.jump);
    changes.push({ action: 'add-jump', chain: chain.from, detail: chain.jump.join(' ') });
  }
  return changes;
}

async function removeChain(ipt: Iptables, name: string): Promise<PolicyChange[]> {
  const changes: PolicyChange[] = [];
  for (const hook of HOOK_CHAINS) {
    if (!(await ipt.hasChain(hook))) continue;
    for (const rule of await ipt.rules(hook)) {
      if (!jumpsTo(rule, name)) continue;
      await ipt.delete(hook, rule);
      changes.push({ action: 'remove-jump', chain: hook, detail: rule.join(' ') });
    }
  }
  if (await ipt.hasChain(name)) {
    for (const rule of await ipt.rules(name)) await ipt.delete(name, rule);
    await ipt.deleteChain(name);
    changes.push({ action: 'remove-chain', chain: name, detail: 'emptied and deleted' });
  }
  return changes;
}

/** Install or update the policy; returns what changed (nothing when it was already in place). */
export async function applyPolicy(ipt: Iptables, plan: NetworkPolicyPlan): Promise<PolicyChange[]> {
  const changes: PolicyChange[] = [];
  const wanted = new Set(plan.chains.map((c) => c.name));
  for (const name of plan.chainNames) if (!wanted.has(name)) changes.push(...(await removeChain(ipt, name)));
  // Fill every chain before any jump leads into it.
  for (const chain of plan.chains) changes.push(...(await ensureChain(ipt, chain)));
  for (const chain of plan.chains) changes.push(...(await ensureJump(ipt, chain)));
  return changes;
}

/** Remove every chain and jump of this deployment (`ocm down`, the last user gone). */
export async function removePolicy(ipt: Iptables, project: string): Promise<PolicyChange[]> {
  const names = policyChainNames(project);
  const changes: PolicyChange[] = [];
  for (const name of [names.forward, names.input]) changes.push(...(await removeChain(ipt, name)));
  return changes;
}

export interface PolicyProblem { chain: string; problem: string }

export interface ForeignJump { hook: string; chain: string; source: string }

/**
 * Jumps into another ocm chain (OCM-<project>-FWD/IN) for addresses that
 * overlap this deployment's pool: another deployment's policy, or one left
 * by a root deleted without `ocm down`. Its rules see our gateways' traffic
 * before ours do and can refuse what our policy allows (or its own rebuild
 * hold can cut our gateways off); ocm never removes another project's rules.
 */
export async function foreignJumps(ipt: Iptables, plan: NetworkPolicyPlan, pool: string): Promise<ForeignJump[]> {
  const ours = new Set(plan.chainNames);
  const found: ForeignJump[] = [];
  for (const hook of HOOK_CHAINS) {
    if (!(await ipt.hasChain(hook))) continue;
    for (const rule of await ipt.rules(hook)) {
      const target = rule.at(-2) === '-j' ? rule.at(-1) ?? '' : '';
      if (!/^OCM-.+-(FWD|IN)$/.test(target) || ours.has(target)) continue;
      const s = rule.indexOf('-s');
      const source = s >= 0 ? rule[s + 1] ?? '0.0.0.0/0' : '0.0.0.0/0';
      if (cidrsOverlap(source.includes('/') ? source : `${source}/32`, pool)) found.push({ hook, chain: target, source });
    }
  }
  return found;
}

/** What differs between the host and the plan, without changing anything (doctor). */
export async function checkPolicy(ipt: Iptables, plan: NetworkPolicyPlan): Promise<PolicyProblem[]> {
  const problems: PolicyProblem[] = [];
  const wanted = new Set(plan.chains.map((c) => c.name));
  for (const name of plan.chainNames) {
    if (!wanted.has(name) && (await ipt.hasChain(name))) problems.push({ chain: name, problem: `is installed although the policy is ${plan.users.length === 0 ? 'without users' : plan.mode}` });
  }
  for (const chain of plan.chains) {
    if (!(await ipt.hasChain(chain.name))) {
      problems.push({ chain: chain.name, problem: 'is missing' });
      continue;
    }
    const actual = await ipt.rules(chain.name);
    if (!(actual.length === chain.rules.length && actual.every((r, i) => same(r, chain.rules[i] ?? [])))) {
      problems.push({ chain: chain.name, problem: `has ${actual.length} rules that differ from the ${chain.rules.length} planned` });
    }
    const jumps = (await ipt.hasChain(chain.from)) ? (await ipt.rules(chain.from)).filter((r) => jumpsTo(r, chain.name)) : [];
    if (!jumps.some((r) => same(r, chain.jump))) problems.push({ chain: chain.name, problem: `is not jumped to from ${chain.from} (${chain.jump.join(' ')})` });
    else if (jumps.length > 1) problems.push({ chain: chain.name, problem: `is jumped to ${jumps.length} times from ${chain.from}` });
  }
  return problems;
}
