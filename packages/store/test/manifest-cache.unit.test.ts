// ocm.yaml is read once per command: what a command wrote or read is served
// again from one stat, and any other write, even one of the same size, is seen.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseManifest } from '@ocm/core';
import { DeploymentRoot } from '@ocm/store';

const yaml = (port: number): string => `settings:\n  domain: example.test\nusers:\n  - name: alice\n    port: ${port}\n`;
let dir: string;
let root: DeploymentRoot;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocm-manifest-cache-'));
  root = new DeploymentRoot(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

test('a hand edit of the same size right after a read is seen by the next read (file times may not tick between the two)', async () => {
  const file = join(dir, 'ocm.yaml');
  await writeFile(file, yaml(18800));
  assert.equal((await root.load()).manifest.users[0]?.port, 18800);
  // In place, same length, within the file times' tick.
  await writeFile(file, yaml(18801));
  assert.equal((await root.load()).manifest.users[0]?.port, 18801);
});

test('what ocm wrote is what the next load gives, and a later edit by hand replaces it', async () => {
  const file = join(dir, 'ocm.yaml');
  await root.saveManifest(parseManifest(yaml(18802)));
  const again = await new DeploymentRoot(dir).load();
  assert.equal(again.manifest.users[0]?.port, 18802);
  assert.match(again.text, /port: 18802/);
  await sleep(30);
  await writeFile(file, yaml(18803));
  assert.equal((await root.load()).manifest.users[0]?.port, 18803);
});

test('a caller that changes what it loaded does not change the next load', async () => {
  await writeFile(join(dir, 'ocm.yaml'), yaml(18804));
  await sleep(30);
  const first = await root.load();
  first.manifest.users.push({ ...(first.manifest.users[0] as (typeof first.manifest.users)[number]), name: 'mallory' });
  (first.manifest.users[0] as { port: number }).port = 1;
  const second = await root.load();
  assert.deepEqual(second.manifest.users.map((u) => [u.name, u.port]), [['alice', 18804]]);
});

test('a removed ocm.yaml is missing, not remembered', async () => {
  await rm(join(dir, 'ocm.yaml'));
  await assert.rejects(root.load(), /no ocm\.yaml/);
});
