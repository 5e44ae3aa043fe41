export { HostIptables, parseRuleLine, type Iptables, type HostIptablesOptions } from './iptables.js';
export { applyPolicy, removePolicy, checkPolicy, foreignJumps, HOOK_CHAINS, REBUILD_HOLD, type ForeignJump, type PolicyChange, type PolicyProblem } from './apply-policy.js';
export { hostResolvers, nameserversIn } from './resolvers.js';
