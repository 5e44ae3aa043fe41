// The runtime through bin/ocm against the real Docker Engine: what an admin
// sees when they add, change, rotate, remove, reconcile and diagnose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getDocker, testLabels } from './support/docker.js';
import { httpJson } from './support/wait.js';
import { ocm, snapshot } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();
const inspect = (name: string) => docker.getContainer(name).inspect();

test('add starts a hardened gateway and waits for health; set and token --rotate recreate only that user', async (t) => {
  const { root, portBase, project } = await testRoot(t);
  const c = (n: string): string => `${project}-${n}`;
  let r = await ocm(['add', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /alice's gateway is healthy on 127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /token: run `ocm token alice` to print it/);
  r = await ocm(['add', 'bob', '--memory', '256m', '--cpus', '0.5', '--pids', '128'], { root });
  assert.equal(r.code, 0, r.stderr);

  const health = await httpJson<{ ok: boolean }>(`http://127.0.0.1:${portBase}/healthz`);
  assert.equal(health.json?.ok, true);
  const token = (await ocm(['token', 'alice'], { root })).stdout.trim();
  const who = await httpJson<{ user: string }>(`http://127.0.0.1:${portBase}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(who.status, 200, 'the env file token reaches the gateway');

  const bob = await inspect(c('bob'));
  assert.equal(bob.HostConfig.Memory, 256 * 1024 ** 2);
  assert.equal(bob.HostConfig.NanoCpus, 0.5e9);
  assert.equal(bob.HostConfig.PidsLimit, 128);
  assert.deepEqual(bob.HostConfig.CapDrop, ['ALL']);
  assert.deepEqual(bob.HostConfig.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(bob.HostConfig.Init, true);
  assert.equal(bob.HostConfig.RestartPolicy?.Name, 'unless-stopped');
  assert.deepEqual(bob.HostConfig.PortBindings, { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: String(portBase + 1) }] });
  assert.equal(bob.HostConfig.NetworkMode, c('bob'));
  assert.equal(bob.Config.User, '1000:1000');
  assert.equal(bob.Config.Labels['ocm.test'], '1');
  assert.equal(bob.Config.Labels['com.docker.compose.project'], project);
  assert.ok(!JSON.stringify(bob.Config.Labels).includes(token), 'no secret in labels');
  assert.ok(!bob.Config.Cmd?.join(' ').includes(token), 'no secret in argv');

  const aliceBefore = await inspect(c('alice'));
  const bobBefore = await inspect(c('bob'));
  r = await ocm(['set', 'bob', '--memory', '300m'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`recreate ${c('bob')}: spec changed`));
  assert.equal((await inspect(c('alice'))).Id, aliceBefore.Id, 'alice untouched by set bob');
  assert.equal((await inspect(c('alice'))).State.StartedAt, aliceBefore.State.StartedAt);
  assert.notEqual((await inspect(c('bob'))).Id, bobBefore.Id);
  assert.equal((await inspect(c('bob'))).HostConfig.Memory, 300 * 1024 ** 2);

  const bobNow = await inspect(c('bob'));
  r = await ocm(['token', 'alice', '--rotate'], { root });
  assert.equal(r.code, 0, r.stderr);
  const rotated = r.stdout.trim();
  assert.notEqual(rotated, token);
  assert.equal((await inspect(c('bob'))).Id, bobNow.Id, 'bob untouched by alice rotation');
  const old = await httpJson(`http://127.0.0.1:${portBase}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(old.status, 401, 'old token refused');
  const fresh = await httpJson(`http://127.0.0.1:${portBase}/api/whoami`, { headers: { authorization: `Bearer ${rotated}` } });
  assert.equal(fresh.status, 200, 'new token accepted');

  // Nothing changed: up leaves both running with the same ids.
  const ids = [(await inspect(c('alice'))).Id, (await inspect(c('bob'))).Id];
  r = await ocm(['up'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /alice +leave: unchanged and running/);
  assert.deepEqual([(await inspect(c('alice'))).Id, (await inspect(c('bob'))).Id], ids);

  r = await ocm(['status', '--json'], { root });
  const status = JSON.parse(r.stdout) as Array<{ name: string; state: string; health: string; memoryLimitBytes: number; pidsLimit: number; memoryBytes: number }>;
  assert.deepEqual(status.map((s) => [s.name, s.state, s.health]), [['alice', 'running', 'healthy'], ['bob', 'running', 'healthy']]);
  assert.equal(status[1]?.memoryLimitBytes, 300 * 1024 ** 2);
  assert.ok((status[1]?.memoryBytes ?? 0) > 0);

  r = await ocm(['doctor'], { root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /all \d+ checks passed/);

  r = await ocm(['remove', 'bob'], { root });
  assert.equal(r.code, 0, r.stderr);
  await assert.rejects(inspect(c('bob')), 'bob container removed');
  await assert.rejects(docker.getNetwork(c('bob')).inspect(), 'bob network removed');
  assert.equal((await inspect(c('alice'))).State.Running, true, 'alice still running');
  assert.ok(readFileSync(`${root}/users/bob/env`, 'utf8').length > 0, 'bob data kept');
});

test('a gateway that never becomes healthy: clear error with its log, non-zero exit', async (t) => {
  const { root } = await testRoot(t, { healthTimeoutSeconds: 8 });
  const r = await ocm(['add', 'carol', '--env', 'OCM_FIXTURE_NEVER_HEALTHY=1'], { root });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: .*carol.*/m);
  assert.match(r.stderr, /^hint: /m);
  const crash = await ocm(['add', 'dave', '--env', 'OCM_FIXTURE_EXIT_IMMEDIATELY=1'], { root });
  assert.notEqual(crash.code, 0);
  assert.match(crash.stderr, /dave/);
  assert.match(crash.stderr, /exit/i, 'names the exit');
});

test('a missing image that cannot be pulled is refused before anything changes', async (t) => {
  const { root } = await testRoot(t, { image: 'ocm-test-no-such-image:never' });
  const before = snapshot(root);
  const r = await ocm(['add', 'erin'], { root });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: .*ocm-test-no-such-image:never/m);
  assert.deepEqual(snapshot(root), before, 'root unchanged');
});

test('a subnet another Docker network holds is refused before ocm.yaml records the user', async (t) => {
  const { root, pool, project } = await testRoot(t);
  // Another network (a second root, a hand-made bridge) holding the first /24 of this root's pool.
  const squatter = await docker.createNetwork({
    Name: `${project}-squatter`, Driver: 'bridge', Labels: testLabels(),
    IPAM: { Driver: 'default', Config: [{ Subnet: pool.replace(/0\/16$/, '0/24') }] },
  });
  t.after(() => squatter.remove().catch(() => undefined));
  const before = snapshot(root);
  const r = await ocm(['add', 'yy'], { root });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`^error: subnet "${pool.replace(/0\.0\/16$/, '0.0/28').replaceAll('.', '\\.')}" for network "${project}-yy" overlaps ".*" of the Docker network "${project}-squatter"$`, 'm'));
  assert.match(r.stderr, /^hint: .*settings\.network\.pool/m);
  assert.deepEqual(snapshot(root), before, 'root unchanged: yy is not in ocm.yaml');
  assert.equal((await docker.listNetworks({ filters: { name: [`${project}-yy`] } })).length, 0);
  // --no-start does not touch Docker, so the user is recorded and `ocm up` reports the same conflict.
  assert.equal((await ocm(['add', 'yy', '--no-start'], { root })).code, 0);
  const up = await ocm(['up'], { root });
  assert.notEqual(up.code, 0);
  assert.match(up.stdout + up.stderr, /overlaps/);
});

test('add creates the network while it writes: a failed write takes it back, a leftover of a killed add is reclaimed', async (t) => {
  const { root, pool, project } = await testRoot(t);
  const networks = async (name: string) => (await docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);

  // Something in the way of ww's files: the write fails after the checks passed.
  mkdirSync(`${root}/users`, { recursive: true });
  writeFileSync(`${root}/users/ww`, 'in the way\n');
  const before = snapshot(root);
  const failed = await ocm(['add', 'ww'], { root });
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stderr, /^error: cannot read ".*\/users\/ww\/env": a file stands where a directory of its path belongs$/m);
  assert.match(failed.stderr, /^hint: /m);
  assert.deepEqual(snapshot(root), before, 'root unchanged: ww is not in ocm.yaml');
  assert.deepEqual(await networks(`${project}-ww`), [], 'the early network was removed again');
  rmSync(`${root}/users/ww`);

  // What an add killed after its early network leaves: a network of this root
  // for a user ocm.yaml does not have, on the subnet the next user gets.
  const leftover = await docker.createNetwork({
    Name: `${project}-gone`, Driver: 'bridge', Labels: testLabels({ 'ocm.managed': '1', 'ocm.root': root, 'ocm.user': 'gone' }),
    IPAM: { Driver: 'default', Config: [{ Subnet: pool.replace(/0\.0\/16$/, '0.0/28') }] },
  });
  t.after(() => leftover.remove().catch(() => undefined));
  const r = await ocm(['add', 'zz'], { root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`^removed network ${project}-gone: a leftover of an interrupted add, it held zz's subnet$`, 'm'));
  assert.deepEqual(await networks(`${project}-gone`), []);
  assert.equal((await networks(`${project}-zz`)).length, 1);
});

test('compose and ocm converge on the same containers instead of fighting', async (t) => {
  const { root, project } = await testRoot(t);
  const c = (n: string): string => `${project}-${n}`;
  assert.equal((await ocm(['add', 'alice'], { root })).code, 0);
  const compose = (...args: string[]) => spawnSync('docker-compose', ['-f', `${root}/docker-compose.yml`, '-p', project, ...args], { encoding: 'utf8', cwd: root });
  let out = compose('up', '-d');
  assert.equal(out.status, 0, out.stderr);
  const afterCompose = await inspect(c('alice'));
  // ocm accepts compose's container as its own: same spec hash, left alone.
  const r = await ocm(['up'], { root });
  assert.match(r.stdout, /alice +leave: unchanged and running/);
  assert.equal((await inspect(c('alice'))).Id, afterCompose.Id);
  out = compose('up', '-d');
  assert.match(out.stderr, new RegExp(`${c('alice')} is up-to-date`));
  assert.equal((await inspect(c('alice'))).Id, afterCompose.Id);
  assert.match(compose('ps').stdout, new RegExp(`${c('alice')} .* Up`));
});
