// A limit Docker's host cannot give is refused before anything is written:
// `ocm set carol --cpus <more than the host has>` used to save the value,
// remove carol's container and then fail to create the new one, leaving her
// down. Here the real engine says what it has, and its refusal is shown to be
// real before ocm is asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDocker, FIXTURE_IMAGE } from './support/docker.js';
import { ocm, snapshot } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();

/** The root's files, without the state trees the running gateways write to themselves. */
function rootFiles(root: string): Map<string, string> {
  return new Map([...snapshot(root)].filter(([path]) => !/^users\/[^/]+\/state\/./.test(path)));
}

test('limits over what Docker\'s host has are refused before anything is written, and the running user stays up', async (t) => {
  const info = await docker.info() as { NCPU: number; MemTotal: number };
  const tooMany = info.NCPU + 1;
  // The premise: the engine itself refuses such a container, but only when it is created.
  const premise = async (): Promise<void> => {
    const c = await docker.createContainer({ Image: FIXTURE_IMAGE, name: `ocm-test-cpus-${process.pid}`, Labels: { 'ocm.test': '1' }, HostConfig: { NanoCpus: tooMany * 1e9 } });
    try {
      await c.start();
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  };
  await assert.rejects(premise(), /CPU/i);

  const { root, project } = await testRoot(t);
  let r = await ocm(['add', 'carol', '--cpus', '1', '--memory', '256m'], { root });
  assert.equal(r.code, 0, r.stderr);
  const before = await docker.getContainer(`${project}-carol`).inspect();
  assert.equal(before.State.Running, true);
  const files = rootFiles(root);

  r = await ocm(['set', 'carol', '--cpus', String(tooMany)], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, new RegExp(`^error: carol: cpus ${tooMany} is more than the ${info.NCPU} CPU\\(s\\) of Docker's host$`, 'm'));
  assert.match(r.stderr, new RegExp(`^hint: use --cpus ${info.NCPU} or less`, 'm'));
  assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);

  const memory = `${Math.ceil(info.MemTotal / 1024 ** 3) + 1}g`;
  r = await ocm(['set', 'carol', '--memory', memory], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, new RegExp(`^error: carol: memory ${memory} is more than the .* GiB of Docker's host$`, 'm'));

  r = await ocm(['add', 'dave', '--cpus', String(tooMany)], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^error: dave: cpus .* of Docker's host$/m);

  assert.deepEqual(rootFiles(root), files, 'ocm.yaml and every file are as they were');
  const after = await docker.getContainer(`${project}-carol`).inspect();
  assert.equal(after.Id, before.Id, 'the same container');
  assert.equal(after.State.Running, true, 'carol is still running');
  assert.equal(after.State.StartedAt, before.State.StartedAt, 'and was never restarted');
  assert.equal((await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`${project}-dave`] }) })).length, 0, 'no container for dave');

  // What fits is accepted: the host's own count.
  r = await ocm(['set', 'carol', '--cpus', String(info.NCPU)], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await docker.getContainer(`${project}-carol`).inspect()).HostConfig.NanoCpus, info.NCPU * 1e9);
});
