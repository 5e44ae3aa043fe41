// The policy applied to the real host firewall (iptables, nft backend): made
// once, left alone when in place, repaired when a jump or a rule goes, and
// removed to the last rule, with every rule of anyone else unchanged. The
// chains are named ocmt-np<pid>-* and match only a test range, so nothing
// else on the host sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { planNetworkPolicy, validateManifest, type NetworkPolicyPlan } from '@ocm/core';
import { HostIptables, REBUILD_HOLD, applyPolicy, checkPolicy, foreignJumps, hostResolvers, nameserversIn, parseRuleLine } from '@ocm/netpolicy';

const tag = `ocmt-np${process.pid % 100000}`;
const POOL = '192.168.207.0/24';

function testPlan(allow: string[] = []): NetworkPolicyPlan {
  const manifest = validateManifest({ settings: { project: 'np', network: { egress: { allow } } }, users: [{ name: 'alice', port: 18800 }] });
  const plan = planNetworkPolicy(manifest, { resolvers: ['10.255.255.53'] });
  const rename = (name: string): string => name.replace('OCM-np', tag);
  return {
    ...plan,
    chainNames: plan.chainNames.map(rename),
    chains: plan.chains.map((c) => ({ ...c, name: rename(c.name), jump: ['-s', POOL, '-j', rename(c.name)] })),
  };
}

const dump = (): string => execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
const others = (text: string): string[] => text.split('\n').filter((l) => !l.includes(tag));

test('iptables -S lines parse into the rule arguments the plan uses', () => {
  assert.deepEqual(parseRuleLine('-A X -d 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable', 'X'), ['-d', '10.0.0.0/8', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']);
  assert.equal(parseRuleLine('-N X', 'X'), undefined);
  assert.equal(parseRuleLine('-A Y -j RETURN', 'X'), undefined);
  assert.deepEqual(nameserversIn('# c\nnameserver 10.255.255.53\nnameserver ::1\nnameserver 127.0.0.53\n'), ['10.255.255.53', '127.0.0.53']);
});

test('the host resolvers leave loopback out', async () => {
  const servers = await hostResolvers();
  assert.ok(servers.every((s) => !s.startsWith('127.')), servers.join(','));
});

test('apply, re-apply, repair and remove on the real firewall', { timeout: 60_000 }, async (t) => {
  const ipt = new HostIptables();
  const empty = (): NetworkPolicyPlan => ({ ...testPlan(), chains: [] });
  t.after(async () => {
    await applyPolicy(ipt, empty());
  });
  const before = others(dump());
  const plan = testPlan();

  const first = await applyPolicy(ipt, plan);
  assert.deepEqual(first.map((c) => c.action), ['create-chain', 'create-chain', 'add-jump', 'add-jump']);
  assert.deepEqual(await checkPolicy(ipt, plan), []);
  const [fwd, inp] = plan.chains;
  assert.ok(fwd !== undefined && inp !== undefined);
  assert.deepEqual((await ipt.rules(fwd.name)).map((r) => r.join(' ')), fwd.rules.map((r) => r.join(' ')), 'iptables prints the rules as planned');
  assert.deepEqual((await ipt.rules('DOCKER-USER'))[0], fwd.jump, 'the jump is first in DOCKER-USER');
  assert.deepEqual((await ipt.rules('INPUT'))[0], inp.jump, 'the jump is first in INPUT');

  assert.deepEqual(await applyPolicy(ipt, plan), [], 'a second apply changes nothing');

  // dockerd rebuilding its chains drops the jump; a hand edit adds a rule.
  await ipt.delete('DOCKER-USER', fwd.jump);
  await ipt.append(inp.name, ['-d', '203.0.113.9/32', '-j', 'RETURN']);
  await ipt.insert('INPUT', 1, inp.jump);
  const problems = await checkPolicy(ipt, plan);
  assert.deepEqual(problems.map((p) => p.chain).sort(), [fwd.name, inp.name, inp.name].sort(), JSON.stringify(problems));
  const repaired = await applyPolicy(ipt, plan);
  assert.deepEqual(repaired.map((c) => c.action).sort(), ['add-jump', 'rebuild-chain', 'remove-jump'].sort(), JSON.stringify(repaired));
  assert.deepEqual(await checkPolicy(ipt, plan), []);

  // A changed allow-list rebuilds only the chains that differ.
  const wider = testPlan(['192.168.1.20:8123']);
  const changed = await applyPolicy(ipt, wider);
  assert.deepEqual(changed.map((c) => c.action), ['rebuild-chain', 'rebuild-chain']);
  assert.ok((await ipt.rules(fwd.name)).some((r) => r.join(' ') === '-d 192.168.1.20/32 -p tcp -m tcp --dport 8123 -j RETURN'));

  const removed = await applyPolicy(ipt, empty());
  assert.deepEqual(removed.map((c) => c.action), ['remove-jump', 'remove-chain', 'remove-jump', 'remove-chain']);
  const after = dump();
  assert.ok(!after.includes(tag), after);
  assert.deepEqual(others(after), before, 'no rule of anyone else changed');
  assert.deepEqual(await applyPolicy(ipt, empty()), [], 'removing twice changes nothing');
});

test('a missing iptables binary is one clear error', async () => {
  const ipt = new HostIptables({ binary: 'ocmt-np-no-such-iptables' });
  await assert.rejects(ipt.hasChain('INPUT'), (e: { code: string; hint: string }) => e.code === 'OCM_E_FIREWALL_FAILED' && e.hint.includes('policy: open'));
});

test('a rebuild holds new connections off and lets replies through, and a rebuild stopped halfway is repaired', { timeout: 60_000 }, async (t) => {
  const ipt = new HostIptables();
  const plan = testPlan();
  t.after(async () => {
    await applyPolicy(ipt, { ...plan, chains: [] });
  });
  await applyPolicy(ipt, plan);
  const inp = plan.chains[1];
  assert.ok(inp !== undefined);
  // A kill after the hold went in and the old rules went out leaves the hold alone.
  for (const rule of await ipt.rules(inp.name)) await ipt.delete(inp.name, rule);
  await ipt.append(inp.name, REBUILD_HOLD);
  assert.deepEqual((await ipt.rules(inp.name)).map((r) => r.join(' ')), [REBUILD_HOLD.join(' ')], 'iptables prints the hold as written');
  assert.ok(REBUILD_HOLD.join(' ').includes('! --ctstate RELATED,ESTABLISHED'), 'the hold refuses only new connections');
  assert.deepEqual((await checkPolicy(ipt, plan)).map((p) => p.chain), [inp.name]);
  const repaired = await applyPolicy(ipt, plan);
  assert.deepEqual(repaired.map((c) => c.action), ['rebuild-chain']);
  assert.deepEqual(await checkPolicy(ipt, plan), []);
});

test('another deployment\'s jump on an overlapping pool is found, ours and other pools are not', { timeout: 60_000 }, async (t) => {
  const ipt = new HostIptables();
  const plan = testPlan();
  const foreign = `OCM-ocmtf${process.pid % 100000}-IN`;
  t.after(async () => {
    for (const rule of (await ipt.rules('INPUT')).filter((r) => r.at(-1) === foreign)) await ipt.delete('INPUT', rule);
    if (await ipt.hasChain(foreign)) await ipt.deleteChain(foreign);
    await applyPolicy(ipt, { ...plan, chains: [] });
  });
  await applyPolicy(ipt, plan);
  await ipt.newChain(foreign);
  await ipt.append('INPUT', ['-s', '10.251.0.0/16', '-j', foreign]);
  assert.deepEqual(await foreignJumps(ipt, plan, '10.251.0.0/16'), [{ hook: 'INPUT', chain: foreign, source: '10.251.0.0/16' }]);
  assert.deepEqual(await foreignJumps(ipt, plan, '10.252.0.0/16'), [], 'another pool');
  assert.deepEqual((await foreignJumps(ipt, plan, POOL)).filter((f) => f.chain.includes(tag)), [], 'our own chains are not foreign');
});
