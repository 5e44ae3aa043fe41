export { HostIptables, parseRuleLine, type Iptables, type HostIptablesOptions } from './iptables.js';
export { applyPolicy, removePolicy, checkPolicy, HOOK_CHAINS, type PolicyChange, type PolicyProblem } from './apply-policy.js';
export { hostResolvers, nameserversIn } from './resolvers.js';
