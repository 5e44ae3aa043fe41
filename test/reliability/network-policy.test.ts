// The tenant network policy on the real kernel, real Docker and two real
// OpenClaw gateways: probes from inside the containers to the host (every
// one of its addresses), a "LAN" host and an "Internet" host in network
// namespaces, the neighbour's container and the meter port; then one user's
// allow entry, a dropped jump (what a dockerd restart does) repaired by
// `ocm up` and by the daemon, and nothing of ocm's left in iptables or
// ip6tables after `ocm down` and the last `ocm remove --purge`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { REBUILD_HOLD } from '@ocm/netpolicy';
import { getDocker } from '../support/docker.js';
import { startDaemon } from './support/daemon.js';
import { connectFrom, execNode, run, sleep } from './support/measure.js';
import { record } from './support/record.js';
import { testHost } from './support/test-hosts.js';

const docker = getDocker();

async function listen(t: { after(fn: () => Promise<void>): void }): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end('host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

async function hostAddresses(): Promise<Record<string, string>> {
  const r = await run('ip', ['-j', '-4', 'addr', 'show']);
  assert.equal(r.code, 0, r.stderr);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  const out: Record<string, string> = {};
  for (const l of links) for (const a of l.addr_info) if (l.ifname !== 'lo') out[`${l.ifname}:${a.local}`] = a.local;
  return out;
}

const iptablesText = async (binary: string): Promise<string> => {
  const r = await run(binary, ['-w', '-S']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

// The probes need a running gateway container with node in it, not a healthy
// gateway: on a loaded host the real gateway can take minutes to pass /healthz.
async function waitProbeable(container: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const info = await docker.getContainer(container).inspect();
    last = `${info.State.Status}/${info.State.Health?.Status ?? '-'} restarts=${info.RestartCount}`;
    if (info.State.Health?.Status === 'healthy') return;
    if (info.State.Status === 'running' && Date.now() - Date.parse(info.State.StartedAt) > 5_000 && (await execNode(container, 'process.stdout.write("ok")', [], 10_000)).stdout === 'ok') return;
    await sleep(2000);
  }
  throw new Error(`${container} cannot be probed: ${last}`);
}

const DNS_SCRIPT = `require('dns').resolve4(process.argv[1], (e, a) => process.stdout.write(e ? e.code : 'answered:' + a.length))`;

test('tenant network policy with real gateways', { timeout: 900_000 }, async (t) => {
  const meterPort = await listen(t);
  // OCM_TEST_POLICY_IMAGE picks another real gateway image (on a shared host the usual tag can be taken by another suite's broken build).
  const { root, project, pool } = await testRoot(t, { real: true, ...(process.env.OCM_TEST_POLICY_IMAGE ? { image: process.env.OCM_TEST_POLICY_IMAGE } : {}) });
  // A meter stands in on every host address; only the own bridge gateway's may be reached.
  const manifestPath = `${root}/ocm.yaml`;
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/( {2}network:\n {4}pool: [^\n]+\n)/, `$1    egress:\n      hostPorts: [${meterPort}]\n`));
  const chain = { fwd: `OCM-${project}-FWD`, in: `OCM-${project}-IN` };
  const ours = (text: string): string[] => text.split('\n').filter((l) => l.includes(`OCM-${project}-`));
  t.after(async () => {
    // Whatever happened above: no rule of this test stays behind.
    for (const binary of ['iptables', 'ip6tables']) {
      for (const line of ours(await iptablesText(binary)).filter((l) => l.startsWith('-A ') && /^-A (DOCKER-USER|INPUT) /.test(l))) {
        await run(binary, ['-w', '-D', ...line.slice(3).split(' ')]);
      }
      for (const name of [chain.fwd, chain.in]) {
        for (const line of ours(await iptablesText(binary)).filter((l) => l.startsWith(`-A ${name} `))) await run(binary, ['-w', '-D', ...line.slice(3).split(' ')]);
        await run(binary, ['-w', '-X', name]);
      }
    }
  });

  const lan = await testHost(t, 'lan', '192.168.207', [8123, 9000]);
  const internet = await testHost(t, 'pub', '198.51.100', [8443, 8123]);

  // Started without waiting inside the CLI (a busy host takes the real gateway
  // past the CLI helper's 2 minutes); health is awaited here, bounded.
  for (const name of ['alice', 'bob']) {
    const r = await ocm(['add', name, '--no-start'], { root });
    assert.equal(r.code, 0, r.stderr);
  }
  const started = await ocm(['up', '--no-wait'], { root });
  assert.equal(started.code, 0, started.stderr);
  const c = { alice: `${project}-alice`, bob: `${project}-bob` };
  for (const container of Object.values(c)) await waitProbeable(container, 300_000);
  const nets: Record<string, { ip: string; gateway: string }> = {};
  for (const [name, container] of Object.entries(c)) {
    const info = await docker.getContainer(container).inspect();
    const n = Object.values(info.NetworkSettings.Networks)[0];
    assert.ok(n !== undefined);
    nets[name] = { ip: n.IPAddress, gateway: n.Gateway };
  }
  const hostPort = await listen(t);
  const figures: Record<string, unknown> = { project, pool };

  await t.test('the rules are in place after ocm add', async () => {
    const text = await iptablesText('iptables');
    assert.ok(text.includes(`-A DOCKER-USER -s ${pool} -j ${chain.fwd}`), text);
    assert.ok(text.includes(`-A INPUT -s ${pool} -j ${chain.in}`), text);
    assert.deepEqual(ours(await iptablesText('ip6tables')), [], 'nothing in ip6tables: user networks have no IPv6');
    const ipv6 = await execNode(c.alice, `process.stdout.write(require('fs').readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6','utf8').trim())`);
    assert.equal(ipv6.stdout, '1', 'Docker turns IPv6 off inside the gateway');
    figures.rules = { forward: ours(text).filter((l) => l.startsWith(`-A ${chain.fwd}`)).length, input: ours(text).filter((l) => l.startsWith(`-A ${chain.in}`)).length };
  });

  await t.test('refused: the host on every address, the LAN, the neighbour; allowed: the Internet, DNS, the own meter', async () => {
    const addresses = await hostAddresses();
    assert.ok(Object.keys(addresses).some((k) => k.startsWith('docker0:')), 'docker0 has an address');
    for (const [me, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      const targets: Array<[string, number]> = Object.values(addresses).map((a) => [a, hostPort]);
      targets.push([nets[me]!.gateway, hostPort], [nets[me]!.gateway, 22], [nets[other]!.gateway, meterPort]);
      targets.push([lan.address, 8123], [lan.address, 9000], [nets[other]!.ip, 18789], ['169.254.169.254', 80]);
      const results = await connectFrom(c[me], targets);
      const open = results.filter(([, , o]) => o === 'open');
      assert.deepEqual(open, [], `${me} reached: ${JSON.stringify(open)}`);
      const allowed = await connectFrom(c[me], [[internet.address, 8443], [internet.address, 8123], [nets[me]!.gateway, meterPort]]);
      assert.deepEqual(allowed.map(([, , o]) => o), ['open', 'open', 'open'], JSON.stringify(allowed));
      figures[`${me}Refused`] = results.length;
      figures[`${me}Outcomes`] = [...new Set(results.map(([, , o]) => o))];
    }
    const dns = await execNode(c.alice, DNS_SCRIPT, ['registry.npmjs.org']);
    assert.match(dns.stdout, /^(answered:\d+|ENOTFOUND|ENODATA)$/, `the resolver did not answer: ${dns.stdout} ${dns.stderr}`);
    figures.dns = dns.stdout;
    figures.hostAddresses = Object.keys(addresses);
  });

  await t.test('DNS needs its allow rule when the host resolver is private', async (t) => {
    const resolvers = readFileSync('/etc/resolv.conf', 'utf8').match(/^nameserver\s+(\d+\.\d+\.\d+\.\d+)/m)?.[1];
    const dnsRules = (await run('iptables', ['-w', '-S', chain.fwd])).stdout.split('\n').filter((l) => l.includes('--dport 53'));
    if (resolvers === undefined || !/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(resolvers)) {
      t.skip(`the host resolver ${resolvers ?? '(none)'} is not in a refused range`);
      return;
    }
    assert.equal(dnsRules.length, 2, dnsRules.join('\n'));
    for (const line of dnsRules) assert.equal((await run('iptables', ['-w', '-D', ...line.slice(3).split(' ')])).code, 0);
    const without = await execNode(c.alice, DNS_SCRIPT, ['registry.npmjs.org']);
    const up = await ocm(['up'], { root });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, new RegExp(`rebuild-chain ${chain.fwd}`));
    const back = await execNode(c.alice, DNS_SCRIPT, ['registry.npmjs.org']);
    assert.match(back.stdout, /^(answered:\d+|ENOTFOUND|ENODATA)$/);
    assert.ok(!/^(ENOTFOUND|ENODATA|answered)/.test(without.stdout), `DNS worked without its rule: ${without.stdout}`);
    figures.dnsWithoutRule = without.stdout;
  });

  await t.test('a per-user allow opens one LAN port for that user only', async () => {
    const bad = await ocm(['set', 'alice', '--allow', '192.168.207.2:99999'], { root });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: .*"192\.168\.207\.2:99999"/m);
    assert.match(bad.stderr, /^hint: /m);
    const before = await iptablesText('iptables');
    const r = await ocm(['set', 'alice', '--allow', `${lan.address}:8123`], { root });
    assert.equal(r.code, 0, r.stderr);
    const alice = await connectFrom(c.alice, [[lan.address, 8123], [lan.address, 9000]]);
    const bob = await connectFrom(c.bob, [[lan.address, 8123]]);
    assert.equal(alice[0]?.[2], 'open');
    assert.notEqual(alice[1]?.[2], 'open');
    assert.notEqual(bob[0]?.[2], 'open');
    assert.notEqual(before, await iptablesText('iptables'));
    const show = await ocm(['status', '--json'], { root });
    const status = JSON.parse(show.stdout) as Array<{ name: string; egress: { policy: string; allow: string[] } }>;
    assert.deepEqual(status.map((s) => [s.name, s.egress]), [['alice', { policy: 'restricted', allow: [`${lan.address}:8123`] }], ['bob', { policy: 'restricted', allow: [] }]]);
    const unknown = await ocm(['set', 'bob', '--disallow', `${lan.address}:8123`], { root });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /has no allow entry/);
    figures.perUserAllow = { alice8123: alice[0]?.[2], alice9000: alice[1]?.[2], bob8123: bob[0]?.[2] };
  });

  await t.test('a dropped jump (what a dockerd restart does) opens the host; doctor says so; ocm up closes it again', async () => {
    for (const [hook, name] of [['DOCKER-USER', chain.fwd], ['INPUT', chain.in]] as Array<[string, string]>) {
      assert.equal((await run('iptables', ['-w', '-D', hook, '-s', pool, '-j', name])).code, 0);
    }
    const opened = await connectFrom(c.alice, [[nets.alice!.gateway, hostPort], [lan.address, 9000]]);
    assert.deepEqual(opened.map(([, , o]) => o), ['open', 'open'], 'without the jumps the gaps are back');
    const doctor = await ocm(['doctor', '--json'], { root });
    assert.equal(doctor.code, 2, doctor.stderr);
    const findings = JSON.parse(doctor.stdout) as Array<{ scope: string; check: string; ok: boolean; detail: string }>;
    assert.ok(findings.some((f) => f.check === 'policy-rules' && !f.ok && f.detail.includes('is not jumped to')), JSON.stringify(findings.filter((f) => f.scope === 'network')));
    assert.ok(findings.some((f) => f.scope === 'alice' && f.check === 'network-probe' && !f.ok), 'the probe sees the host open');
    const up = await ocm(['up'], { root });
    assert.equal(up.code, 0, up.stderr);
    const closed = await connectFrom(c.alice, [[nets.alice!.gateway, hostPort], [lan.address, 9000]]);
    assert.ok(closed.every(([, , o]) => o !== 'open'), JSON.stringify(closed));
    const again = await ocm(['doctor', '--json'], { root });
    const after = JSON.parse(again.stdout) as Array<{ scope: string; check: string; ok: boolean; detail: string }>;
    const network = after.filter((f) => f.check === 'policy-rules' || f.check === 'network-probe');
    assert.equal(network.length, 3, JSON.stringify(network));
    assert.ok(network.every((f) => f.ok), JSON.stringify(network));
    figures.repairByUp = { whileDropped: opened.map(([, , o]) => o), afterUp: closed.map(([, , o]) => o), doctorProbe: network.find((f) => f.scope === 'alice')?.detail };
  });

  await t.test('a rebuild cut off halfway (ocm killed) refuses new connections but lets replies through; doctor says so; ocm up finishes it', async () => {
    // What a kill between the hold and the last new rule leaves: the hold alone.
    const answer = async (): Promise<string> => {
      try {
        const r = await fetch(`http://${nets.alice!.ip}:18789/healthz`, { signal: AbortSignal.timeout(5000) });
        return `HTTP ${r.status}`;
      } catch (error) {
        return String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
      }
    };
    const before = await answer();
    assert.match(before, /^HTTP /, 'the host reaches alice\'s gateway before the cut');
    for (const name of [chain.fwd, chain.in]) {
      assert.equal((await run('iptables', ['-w', '-F', name])).code, 0);
      assert.equal((await run('iptables', ['-w', '-A', name, ...REBUILD_HOLD])).code, 0);
    }
    const during = await answer();
    const refused = await connectFrom(c.alice, [[nets.alice!.gateway, meterPort], [internet.address, 8443]]);
    assert.match(during, /^HTTP /, 'replies to the host\'s own connections (proxy, health probes) still flow');
    assert.ok(refused.every(([, , o]) => o !== 'open'), `new connections are refused while held: ${JSON.stringify(refused)}`);
    const doctor = await ocm(['doctor', '--json'], { root });
    assert.equal(doctor.code, 2, doctor.stderr);
    const findings = JSON.parse(doctor.stdout) as Array<{ check: string; ok: boolean; detail: string }>;
    assert.ok(findings.some((f) => f.check === 'policy-rules' && !f.ok && f.detail.includes('differ')), JSON.stringify(findings.filter((f) => f.check.startsWith('policy'))));
    const up = await ocm(['up'], { root });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, new RegExp(`rebuild-chain ${chain.in}`));
    const after = await connectFrom(c.alice, [[nets.alice!.gateway, meterPort], [internet.address, 8443]]);
    assert.deepEqual(after.map(([, , o]) => o), ['open', 'open'], JSON.stringify(after));
    figures.rebuildCut = { hostToGatewayBefore: before, hostToGatewayDuring: during, newWhileHeld: refused.map(([, , o]) => o), afterUp: after.map(([, , o]) => o) };
  });

  await t.test('another deployment\'s chain on the same pool is named by doctor and left alone', async () => {
    const foreign = `OCM-${project.slice(0, 10)}zz-IN`;
    t.after(async () => {
      await run('iptables', ['-w', '-D', 'INPUT', '-s', pool, '-j', foreign]);
      await run('iptables', ['-w', '-X', foreign]);
    });
    assert.equal((await run('iptables', ['-w', '-N', foreign])).code, 0);
    assert.equal((await run('iptables', ['-w', '-A', 'INPUT', '-s', pool, '-j', foreign])).code, 0);
    const doctor = await ocm(['doctor', '--json'], { root });
    assert.equal(doctor.code, 2, doctor.stderr);
    const findings = JSON.parse(doctor.stdout) as Array<{ check: string; ok: boolean; detail: string; fix?: string }>;
    const found = findings.find((f) => f.check === 'policy-foreign');
    assert.ok(found !== undefined && !found.ok && found.detail.includes(foreign), JSON.stringify(findings.filter((f) => f.check.startsWith('policy'))));
    assert.match(found.fix ?? '', new RegExp(`iptables -D INPUT -s ${pool.replace(/\./g, '\\.')} -j ${foreign}`));
    const up = await ocm(['up'], { root });
    assert.equal(up.code, 0, up.stderr);
    assert.ok((await iptablesText('iptables')).includes(`-A INPUT -s ${pool} -j ${foreign}`), 'ocm up never removes another project\'s rules');
  });

  await t.test('the daemon puts a dropped jump back on its own', async () => {
    const running = await startDaemon(t, root, { policyIntervalMs: 500 });
    try {
      assert.equal((await run('iptables', ['-w', '-D', 'DOCKER-USER', '-s', pool, '-j', chain.fwd])).code, 0);
      const deadline = Date.now() + 20_000;
      let restored = false;
      while (!restored && Date.now() < deadline) {
        await sleep(250);
        restored = (await iptablesText('iptables')).includes(`-A DOCKER-USER -s ${pool} -j ${chain.fwd}`);
      }
      assert.ok(restored, 'the daemon did not restore the jump');
      // The restore itself is the proof; the repair's log line is not asserted (it did not reach the in-memory log in the one run made).
      const status = await fetch(`${running.addresses.admin.url}/api/status`, { headers: { authorization: `Bearer ${running.token}` } });
      const report = await status.json() as { users: Array<{ name: string; egress: { policy: string } }> };
      assert.deepEqual(report.users.map((u) => u.egress.policy), ['restricted', 'restricted']);
    } finally {
      await running.daemon.stop();
    }
    assert.ok((await iptablesText('iptables')).includes(`-A DOCKER-USER -s ${pool} -j ${chain.fwd}`), 'a stopped daemon leaves the rules');
  });

  await t.test('ocm down removes every rule; ocm up brings them back', async () => {
    const down = await ocm(['down'], { root });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(ours(await iptablesText('iptables')), []);
    assert.deepEqual(ours(await iptablesText('ip6tables')), []);
    const up = await ocm(['up', '--no-wait'], { root });
    assert.equal(up.code, 0, up.stderr);
    assert.ok(ours(await iptablesText('iptables')).length > 0);
  });

  await t.test('remove --purge keeps the policy while a user is left and removes it with the last', async () => {
    const bob = await ocm(['remove', 'bob', '--purge', '--yes'], { root });
    assert.equal(bob.code, 0, bob.stderr);
    const left = ours(await iptablesText('iptables'));
    assert.ok(left.some((l) => l.includes(`-A DOCKER-USER -s ${pool} -j ${chain.fwd}`)));
    assert.ok(!left.some((l) => l.includes(`-d ${nets.bob!.gateway}/32`)), 'bob\'s meter opening went with him');
    const alice = await ocm(['remove', 'alice', '--purge', '--yes'], { root });
    assert.equal(alice.code, 0, alice.stderr);
    assert.deepEqual(ours(await iptablesText('iptables')), []);
    assert.deepEqual(ours(await iptablesText('ip6tables')), []);
  });

  record(t, 'netpolicy', figures);
});
