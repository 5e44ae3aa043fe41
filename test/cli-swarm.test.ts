// The swarm engine's refusals through bin/ocm: each is one line with a hint,
// a non-zero exit, and nothing changed on disk or in Docker. Then a fixture
// user's service, relay and overlay come and go with her.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { ocm, snapshot, tempDir } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';
import { getDocker } from './support/docker.js';
import { ensureSwarm, swarmManager } from './support/swarm.js';

const docker = getDocker();

function assertRefusal(r: { code: number; stderr: string }, message: RegExp): void {
  assert.notEqual(r.code, 0, 'non-zero exit');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `exactly error + hint, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.match(lines[1] ?? '', /^hint: /);
}

test('init --engine: a bad engine, and a swarm where there is none, are refused before anything is written', async (t) => {
  const root = `${tempDir(t)}/root`;
  assertRefusal(await ocm(['init', '--engine', 'kubernetes'], { root }), /^error: --engine "kubernetes" is not an engine$/);
  assert.equal(existsSync(root), false);
  if ((await swarmManager()) !== undefined) return t.diagnostic('this engine manages a swarm: the inactive case cannot be shown here');
  const r = await ocm(['init', '--engine', 'swarm'], { root });
  assertRefusal(r, /^error: settings\.engine is swarm, but this Docker engine is not a swarm manager \(swarm inactive\)$/);
  assert.match(r.stderr, /docker swarm init/);
  assert.equal(existsSync(root), false, 'nothing written');
});

test('a node or a move on a one-host root is refused, with the way that fits', async (t) => {
  const { root } = await testRoot(t);
  assert.equal((await ocm(['add', 'alice', '--no-start'], { root })).code, 0);
  const before = snapshot(root);
  assertRefusal(await ocm(['add', 'bob', '--node', 'worker-1', '--no-start'], { root }), /^error: a node only applies to a swarm root/);
  const moved = await ocm(['move', 'alice', '--to', 'worker-1'], { root });
  assertRefusal(moved, /^error: ocm move --to moves a user between the nodes of a swarm root/);
  assert.match(moved.stderr, /ocm export alice -o alice\.tar.*ocm import alice\.tar/);
  assert.deepEqual(snapshot(root), before, 'the root is byte-identical');
});

test('on a swarm: unknown and unusable nodes are refused; a user\'s service, relay and overlay come and go with her', { timeout: 300_000 }, async (t) => {
  await ensureSwarm(t);
  const { root, project, portBase } = await testRoot(t, { engine: 'swarm' });
  const services = async () => (await docker.listServices({ filters: { label: [`ocm.root=${root}`] } })).map((s) => s.Spec?.Name).sort();

  let before = snapshot(root);
  let r = await ocm(['add', 'alice', '--node', 'no-such-node'], { root });
  assertRefusal(r, /^error: "no-such-node" is not a node of this swarm \(nodes: /);
  assert.deepEqual(snapshot(root), before, 'the root is byte-identical');
  assert.deepEqual(await services(), []);

  r = await ocm(['add', 'alice'], { root, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await services(), [`${project}_alice`]);
  const health = await fetch(`http://127.0.0.1:${portBase}/healthz`);
  assert.equal(health.status, 200, 'her relay answers for her');

  // Her gateway writes its own state meanwhile: ocm's files are what must not change.
  const ours = () => new Map([...snapshot(root)].filter(([path]) => !path.startsWith('users/alice/state/')));
  before = ours();
  assertRefusal(await ocm(['move', 'alice', '--to', 'no-such-node'], { root }), /^error: "no-such-node" is not a node of this swarm/);
  assert.deepEqual(ours(), before);
  r = await ocm(['move', 'alice', '--to', (await docker.info() as { Name: string }).Name], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /alice is already on /);

  r = await ocm(['stop', 'alice'], { root, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const stopped = await docker.getService(`${project}_alice`).inspect() as { Spec: { Mode: { Replicated: { Replicas: number } } } };
  assert.equal(stopped.Spec.Mode.Replicated.Replicas, 0, 'stopped: scaled to 0');
  const tasks = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${project}_alice`] } });
  assert.deepEqual(tasks, [], 'no task container runs');
  r = await ocm(['start', 'alice'], { root, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);

  r = await ocm(['remove', 'alice'], { root, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await services(), []);
  assert.deepEqual((await docker.listContainers({ all: true, filters: { label: [`ocm.root=${root}`] } })).map((c) => c.Names[0]), [], 'her relay went too');
  assert.deepEqual((await docker.listNetworks({ filters: { label: [`ocm.root=${root}`] } })).map((n) => n.Name), [], 'and her overlay');
  assert.equal(existsSync(`${root}/users/alice/state`), true, 'her state stays');

  // `ocm down` takes every service, relay and overlay of the root, and only those.
  assert.equal((await ocm(['add', 'bob'], { root, timeoutMs: 180_000 })).code, 0);
  assert.deepEqual(await services(), [`${project}_bob`]);
  r = await ocm(['down'], { root, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await services(), []);
  assert.deepEqual((await docker.listContainers({ all: true, filters: { label: [`ocm.root=${root}`] } })).map((c) => c.Names[0]), []);
  assert.deepEqual((await docker.listNetworks({ filters: { label: [`ocm.root=${root}`] } })).map((n) => n.Name), []);
});
