// The network policy as data: allow entries, the chains and their exact
// rules, and what turns the policy off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEgressEntry, parseEgressEntry, planNetworkPolicy, sameEgressEntry, userEgress, validateManifest } from '@ocm/core';

const manifest = (extra: Record<string, unknown> = {}, users: unknown[] = [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }]) =>
  validateManifest({ settings: { project: 'demo', ...extra }, users });

test('allow entries: address or CIDR, optional port, canonical form', () => {
  assert.deepEqual(parseEgressEntry('192.168.1.20:8123'), { cidr: '192.168.1.20/32', port: 8123 });
  assert.deepEqual(parseEgressEntry('10.0.0.0/24'), { cidr: '10.0.0.0/24' });
  assert.deepEqual(parseEgressEntry('10.0.0.7/24:443'), { cidr: '10.0.0.0/24', port: 443 }, 'host bits cleared');
  assert.equal(formatEgressEntry(parseEgressEntry('192.168.1.20/32')), '192.168.1.20');
  assert.ok(sameEgressEntry('10.0.0.9/24', '10.0.0.0/24'));
  for (const bad of ['', 'nas.local', '10.0.0.256', '10.0.0.0/33', '10.0.0.1:0', '10.0.0.1:70000', 'fd00::1', '[fd00::1]:80', '10.0.0.1 ', '10.0.0.1:80:90']) {
    assert.throws(() => parseEgressEntry(bad), (e: { code: string; message: string }) => e.code === 'OCM_E_EGRESS_INVALID' && e.message.includes(JSON.stringify(bad)), bad);
  }
});

test('the manifest refuses a bad entry naming the field', () => {
  assert.throws(() => manifest({ network: { egress: { allow: ['10.0.0.0/99'] } } }), /settings\.network\.egress\.allow\[0\]: "10\.0\.0\.0\/99" is not an IPv4/);
  assert.throws(() => manifest({}, [{ name: 'alice', port: 18800, egress: { allow: ['x'] } }]), /users\[0\]\.egress\.allow\[0\]: "x"/);
  assert.throws(() => manifest({ network: { egress: { policy: 'closed' } } }), /policy: "closed" must be one of "restricted", "open"/);
});

test('restricted by default: two chains, neighbours refused before any allow, the Internet falls through', () => {
  const plan = planNetworkPolicy(manifest(), { resolvers: ['10.255.255.53'] });
  assert.equal(plan.mode, 'restricted');
  assert.deepEqual(plan.chains.map((c) => [c.name, c.from, c.jump.join(' ')]), [
    ['OCM-demo-FWD', 'DOCKER-USER', '-s 10.231.0.0/16 -j OCM-demo-FWD'],
    ['OCM-demo-IN', 'INPUT', '-s 10.231.0.0/16 -j OCM-demo-IN'],
  ]);
  const [forward, input] = plan.chains;
  assert.deepEqual(forward?.rules.map((r) => r.join(' ')), [
    '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-d 10.231.0.0/16 -j REJECT --reject-with icmp-port-unreachable',
    '-d 10.255.255.53/32 -p tcp -m tcp --dport 53 -j RETURN',
    '-d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN',
    '-d 0.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable',
    '-d 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable',
    '-d 100.64.0.0/10 -j REJECT --reject-with icmp-port-unreachable',
    '-d 169.254.0.0/16 -j REJECT --reject-with icmp-port-unreachable',
    '-d 172.16.0.0/12 -j REJECT --reject-with icmp-port-unreachable',
    '-d 192.168.0.0/16 -j REJECT --reject-with icmp-port-unreachable',
  ]);
  assert.equal(input?.rules.at(-1)?.join(' '), '-j REJECT --reject-with icmp-port-unreachable', 'the host refuses the rest');
  assert.deepEqual(plan.chainNames, ['OCM-demo-FWD', 'OCM-demo-IN']);
});

test('allow-lists: shared for everyone, per user only from that user\'s subnet; host ports only to the own bridge gateway', () => {
  const m = manifest({ network: { egress: { allow: ['192.168.1.20:8123'], hostPorts: [9901] } } },
    [{ name: 'alice', port: 18800, egress: { allow: ['10.0.0.0/24'] } }, { name: 'bob', port: 18801 }]);
  const [forward, input] = planNetworkPolicy(m, { resolvers: [] }).chains;
  const text = forward?.rules.map((r) => r.join(' ')) ?? [];
  assert.ok(text.includes('-s 10.231.0.0/28 -d 10.0.0.0/24 -j RETURN'), 'alice only');
  assert.ok(text.includes('-d 192.168.1.20/32 -p tcp -m tcp --dport 8123 -j RETURN'));
  assert.ok(text.includes('-d 192.168.1.20/32 -p udp -m udp --dport 8123 -j RETURN'));
  assert.ok(text.indexOf('-d 10.231.0.0/16 -j REJECT --reject-with icmp-port-unreachable') < text.indexOf('-s 10.231.0.0/28 -d 10.0.0.0/24 -j RETURN'), 'neighbours first');
  const inText = input?.rules.map((r) => r.join(' ')) ?? [];
  assert.ok(inText.includes('-s 10.231.0.0/28 -d 10.231.0.1/32 -p tcp -m tcp --dport 9901 -j RETURN'));
  assert.ok(inText.includes('-s 10.231.0.16/28 -d 10.231.0.17/32 -p tcp -m tcp --dport 9901 -j RETURN'));
  assert.deepEqual(userEgress(m, 'alice'), { name: 'alice', subnet: '10.231.0.0/28', mode: 'restricted', allow: ['192.168.1.20:8123', '10.0.0.0/24'] });
  assert.deepEqual(userEgress(m, 'bob').allow, ['192.168.1.20:8123']);
});

test('open, or no users: no chains to install, the names still known for teardown', () => {
  const open = planNetworkPolicy(manifest({ network: { egress: { policy: 'open' } } }), { resolvers: [] });
  assert.equal(open.mode, 'open');
  assert.deepEqual(open.chains, []);
  assert.deepEqual(open.chainNames, ['OCM-demo-FWD', 'OCM-demo-IN']);
  assert.deepEqual(planNetworkPolicy(manifest({}, []), { resolvers: [] }).chains, []);
});

test('a manifest without egress settings serializes as before', () => {
  const m = manifest();
  assert.equal(m.settings.network.egress, undefined);
  assert.equal(m.users[0]?.egress, undefined);
});
