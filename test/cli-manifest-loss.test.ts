// A manifest that lost its users is refused: ocm.yaml truncated to 0 bytes or
// most users deleted by hand leaves every container running until the admin
// restores ocm.yaml.bak or confirms with `ocm up --yes`; and ocm.yaml.bak is
// the manifest ocm last wrote or acted on, so restoring it loses no edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { parseManifest, serializeManifest } from '@ocm/core';
import { getDocker } from './support/docker.js';
import { ocm, snapshot, tempDir } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();

async function ids(project: string, names: string[]): Promise<Array<string | undefined>> {
  return Promise.all(names.map((n) => docker.getContainer(`${project}-${n}`).inspect().then((c) => c.Id, () => undefined)));
}

async function withUsers(root: string, names: string[]): Promise<void> {
  for (const name of names) {
    const r = await ocm(['add', name, '--no-start'], { root });
    assert.equal(r.code, 0, r.stderr);
  }
  const r = await ocm(['up', '--no-wait'], { root });
  assert.equal(r.code, 0, r.stderr);
}

/** The root's files, without the state trees the running gateways write to themselves. */
function rootFiles(root: string): Map<string, string> {
  return new Map([...snapshot(root)].filter(([path]) => !/^users\/[^/]+\/state\/./.test(path)));
}

/** ocm.yaml with only the named users left, as a hand edit would leave it. */
function keepOnly(root: string, names: string[]): void {
  const path = `${root}/ocm.yaml`;
  const manifest = parseManifest(readFileSync(path, 'utf8'));
  writeFileSync(path, serializeManifest({ ...manifest, users: manifest.users.filter((u) => names.includes(u.name)) }));
}

test('ocm.yaml.bak is the manifest ocm last wrote (0600), and a link there is replaced, not written through', async (t) => {
  const { root } = await testRoot(t);
  const before = readFileSync(`${root}/ocm.yaml`, 'utf8');
  let r = await ocm(['add', 'alice', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  const withAlice = readFileSync(`${root}/ocm.yaml`, 'utf8');
  assert.doesNotMatch(before, /alice/);
  assert.match(withAlice, /alice/);
  assert.equal(readFileSync(`${root}/ocm.yaml.bak`, 'utf8'), withAlice);
  assert.equal(lstatSync(`${root}/ocm.yaml.bak`).mode & 0o777, 0o600);

  // A hand edit that ocm then acts on becomes the last good manifest too.
  writeFileSync(`${root}/ocm.yaml`, `${withAlice}# edited by hand\n`);
  r = await ocm(['render'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(`${root}/ocm.yaml.bak`, 'utf8'), `${withAlice}# edited by hand\n`);
  writeFileSync(`${root}/ocm.yaml`, withAlice);

  const outside = `${tempDir(t)}/elsewhere`;
  writeFileSync(outside, 'not ocm\n');
  rmSync(`${root}/ocm.yaml.bak`);
  symlinkSync(outside, `${root}/ocm.yaml.bak`);
  r = await ocm(['add', 'bob', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(outside, 'utf8'), 'not ocm\n', 'the link target was not written');
  assert.ok(lstatSync(`${root}/ocm.yaml.bak`).isFile(), 'the link was replaced by a file');
  assert.equal(readFileSync(`${root}/ocm.yaml.bak`, 'utf8'), readFileSync(`${root}/ocm.yaml`, 'utf8'));
  assert.match(readFileSync(`${root}/ocm.yaml.bak`, 'utf8'), /bob/);
});

test('ocm.yaml truncated to 0 bytes: up, render and add are refused with the restore hint, and nothing changes', async (t) => {
  const { root, project } = await testRoot(t);
  await withUsers(root, ['alice', 'bob']);
  const running = await ids(project, ['alice', 'bob']);
  assert.ok(running.every((id) => id !== undefined));
  writeFileSync(`${root}/ocm.yaml`, '');
  const files = rootFiles(root);

  for (const args of [['up'], ['render'], ['add', 'carol', '--no-start']]) {
    const r = await ocm(args, { root });
    assert.equal(r.code, 1, `ocm ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /error: .*ocm\.yaml is empty: all 2 users ocm last wrote are gone \(alice, bob\); refusing to act on it/);
    assert.match(r.stderr, new RegExp(`hint: restore the last good manifest with \`cp ${root}/ocm\\.yaml\\.bak ${root}/ocm\\.yaml\`, or confirm with \`ocm up --yes\``));
  }
  assert.deepEqual(rootFiles(root), files, 'the root is byte-identical');
  assert.deepEqual(await ids(project, ['alice', 'bob']), running, 'no container was removed or replaced');

  // The hint's own command brings back the manifest with both users; nothing is lost.
  copyFileSync(`${root}/ocm.yaml.bak`, `${root}/ocm.yaml`);
  const up = await ocm(['up', '--no-wait'], { root });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /alice +leave/);
  assert.match(up.stdout, /bob +leave/);
  assert.deepEqual(await ids(project, ['alice', 'bob']), running, 'both kept their containers');
});

test('a hand edit that deletes 2 of 3 users is refused by up; --yes removes them, and the next up accepts it', async (t) => {
  const { root, project } = await testRoot(t);
  await withUsers(root, ['alice', 'bob', 'carol']);
  const running = await ids(project, ['alice', 'bob', 'carol']);
  keepOnly(root, ['alice']);
  const files = rootFiles(root);

  let r = await ocm(['up'], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /error: .*ocm\.yaml lost 2 of its 3 users since ocm last wrote it \(bob, carol\)/);
  assert.match(r.stderr, /hint: .*cp .*ocm\.yaml\.bak .*ocm up --yes/);
  assert.deepEqual(rootFiles(root), files);
  assert.deepEqual(await ids(project, ['alice', 'bob', 'carol']), running);

  r = await ocm(['up', '--yes', '--no-wait'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /bob +remove/);
  assert.match(r.stdout, /carol +remove/);
  assert.deepEqual(await ids(project, ['alice', 'bob', 'carol']), [running[0], undefined, undefined]);

  r = await ocm(['up', '--no-wait'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /alice +leave/);
});

test('up refuses to remove two users\' containers without --yes, and removes one on its own', async (t) => {
  const { root, project } = await testRoot(t);
  await withUsers(root, ['alice', 'bob', 'carol', 'dave']);
  const running = await ids(project, ['alice', 'bob', 'carol', 'dave']);
  const all = readFileSync(`${root}/ocm.yaml`, 'utf8');
  // Half of the users left: not a lost manifest, but two containers would go.
  keepOnly(root, ['alice', 'bob']);
  const files = rootFiles(root);
  let r = await ocm(['up'], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /error: ocm up would remove the containers of 2 users no longer in ocm\.yaml \(carol, dave\)/);
  assert.match(r.stderr, /hint: .*ocm up --yes/);
  assert.deepEqual(rootFiles(root), files);
  assert.deepEqual(await ids(project, ['alice', 'bob', 'carol', 'dave']), running);

  writeFileSync(`${root}/ocm.yaml`, all);
  keepOnly(root, ['alice', 'bob', 'carol']);
  r = await ocm(['up', '--no-wait'], { root });
  assert.match(r.stdout, /dave +remove/);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await ids(project, ['alice', 'bob', 'carol', 'dave']), [running[0], running[1], running[2], undefined]);
});
