// A change that cannot run never takes a running user down, on the real
// gateway and a real engine: `ocm set` with a memory limit the gateway cannot
// start in, and a hand edit Docker itself refuses, both leave the old
// container running (same container, answering again) and, for `set`,
// ocm.yaml as it was. A change that fits replaces the container make before
// break and leaves nothing beside it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { getDocker } from '../support/docker.js';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { record } from '../reliability/support/record.js';

const docker = getDocker();

async function health(root: string): Promise<string> {
  const r = await ocm(['status', '--json'], { root });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Array<{ health: string }>)[0]?.health ?? 'none';
}

async function untilHealthy(root: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let now = await health(root);
  while (now !== 'healthy' && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 500));
    now = await health(root);
  }
  assert.equal(now, 'healthy');
  return Date.now() - t0;
}

async function containersOf(project: string): Promise<string[]> {
  const all = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['ocm.user=alice'], name: [project] }) });
  return all.map((c) => (c.Names[0] ?? '').slice(1)).sort();
}

test('the real gateway: a change it cannot start with, or one Docker refuses, leaves alice running on the old container', { timeout: 900_000 }, async (t) => {
  const { root, project } = await testRoot(t, { real: true });
  const name = `${project}-alice`;
  const added = await ocm(['add', 'alice'], { root, timeoutMs: 600_000 });
  assert.equal(added.code, 0, added.stderr);
  const figures: Record<string, unknown> = {};
  const manifest = `${root}/ocm.yaml`;
  const original = await docker.getContainer(name).inspect();

  // 64 MiB: Docker accepts it, the gateway cannot start in it.
  let t0 = Date.now();
  let r = await ocm(['set', 'alice', '--memory', '64m'], { root, timeoutMs: 600_000 });
  figures.tightMemoryMs = Date.now() - t0;
  const text = readFileSync(manifest, 'utf8');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^error: alice's gateway did not come up with the change \(.*\); alice runs on with the previous settings; ocm\.yaml is as it was$/m);
  assert.doesNotMatch(text, /memory: 64m/, 'ocm.yaml is as it was');
  let now = await docker.getContainer(name).inspect();
  assert.equal(now.Id, original.Id, 'the same container');
  assert.equal(now.State.Running, true);
  assert.equal(now.HostConfig.Memory, original.HostConfig.Memory);
  figures.healthyAgainMs = await untilHealthy(root, 120_000);
  assert.deepEqual(await containersOf(project), [name], 'nothing left beside it');
  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target?: string });
  assert.deepEqual(audit.filter((a) => a.target === 'alice').map((a) => a.action).slice(-2), ['user.set', 'user.set.reverted']);

  // A hand edit Docker refuses (more CPUs than its host has): `ocm up` says so, alice keeps running untouched.
  const { NCPU } = await docker.info() as { NCPU: number };
  writeFileSync(manifest, text.replace(/(- name: alice\n)/, `$1    cpus: ${NCPU + 1}\n`));
  const started = now.State.StartedAt;
  r = await ocm(['up', 'alice'], { root, timeoutMs: 600_000 });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^error: Docker refused the new container \(.*CPU.*\); alice runs on with the previous settings$/m);
  now = await docker.getContainer(name).inspect();
  assert.equal(now.Id, original.Id);
  assert.equal(now.State.StartedAt, started, 'never stopped');
  assert.equal(await health(root), 'healthy');
  assert.deepEqual(await containersOf(project), [name]);
  writeFileSync(manifest, text);

  // A change that fits: a new container, healthy, nothing beside it.
  t0 = Date.now();
  r = await ocm(['set', 'alice', '--memory', '1536m'], { root, timeoutMs: 600_000 });
  figures.setMs = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  now = await docker.getContainer(name).inspect();
  assert.notEqual(now.Id, original.Id);
  assert.equal(now.HostConfig.Memory, 1536 * 1024 ** 2);
  assert.equal(await health(root), 'healthy');
  assert.deepEqual(await containersOf(project), [name]);
  record(t, 'refused-change', figures);
});
