// `ocm upgrade` through the CLI: a bad image is rolled back and the user keeps
// answering; a good one is recorded in ocm.yaml so the next `ocm up` agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { getDocker, FIXTURE_IMAGE, RUN_ID } from './support/docker.js';
import { httpJson } from './support/wait.js';
import { ocm } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const docker = getDocker();

function buildImage(tag: string, env: string): void {
  const dir = mkdtempSync(`${tmpdir()}/ocm-img-`);
  try {
    writeFileSync(`${dir}/Dockerfile`, `FROM ${FIXTURE_IMAGE}\nENV ${env}\nLABEL ocm.test=1 ocm.test.run=${RUN_ID}\n`);
    const r = spawnSync('docker', ['build', '-q', '-t', tag, dir], { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('upgrade rolls a never-healthy image back and records a good one', async (t) => {
  const tag = RUN_ID.toLowerCase().replace(/[^a-z0-9]/g, '');
  const bad = `ocm-test-bad-${tag}:1`;
  const good = `ocm-test-good-${tag}:2`;
  buildImage(bad, 'OCM_FIXTURE_NEVER_HEALTHY=1');
  buildImage(good, 'OCM_FIXTURE_GOOD=2');
  t.after(async () => {
    for (const image of [bad, good]) await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  });
  const { root, portBase, project } = await testRoot(t, { healthTimeoutSeconds: 10 });
  assert.equal((await ocm(['add', 'alice'], { root })).code, 0);
  assert.equal((await ocm(['add', 'bob'], { root })).code, 0);

  // Nothing new under the tag: nobody is restarted.
  const started = async () => Promise.all(['alice', 'bob'].map(async (n) => {
    const info = await docker.getContainer(`${project}-${n}`).inspect();
    return `${info.Id} ${info.State.StartedAt}`;
  }));
  const before = await started();
  let same = await ocm(['upgrade'], { root });
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, new RegExp(`^alice +unchanged +${FIXTURE_IMAGE}: already running this image; not restarted$`, 'm'));
  assert.match(same.stdout, /^bob +unchanged /m);
  same = await ocm(['upgrade', 'alice', '--image', FIXTURE_IMAGE], { root });
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^alice +unchanged /m);
  assert.deepEqual(await started(), before, 'the same containers, never restarted');

  let r = await ocm(['upgrade', '--image', bad], { root });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^alice +rolled-back /m);
  assert.match(r.stdout, /^bob +rolled-back /m);
  assert.match(r.stderr, /^error: 2 of 2 user\(s\) rolled back: alice, bob$/m);
  for (const [i, name] of ['alice', 'bob'].entries()) {
    const info = await docker.getContainer(`${project}-${name}`).inspect();
    assert.equal(info.Config.Image, FIXTURE_IMAGE, `${name} back on the old image`);
    assert.equal((await httpJson<{ ok: boolean }>(`http://127.0.0.1:${portBase + i}/healthz`)).json?.ok, true, `${name} answers`);
  }
  assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`image: ${FIXTURE_IMAGE}`));
  r = await ocm(['up'], { root });
  assert.match(r.stdout, /alice +leave: unchanged and running/, 'rollback left labels that agree with ocm.yaml');

  r = await ocm(['upgrade', 'alice', '--image', good], { root });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^alice +upgraded /m);
  assert.equal((await docker.getContainer(`${project}-alice`).inspect()).Config.Image, good);
  assert.equal((await docker.getContainer(`${project}-bob`).inspect()).Config.Image, FIXTURE_IMAGE, 'bob not named, not upgraded');
  const yaml = readFileSync(`${root}/ocm.yaml`, 'utf8');
  assert.match(yaml, new RegExp(`- name: alice\\n    port: \\d+\\n    enabled: true\\n    image: ${good}`), 'alice pinned to the new image');
  r = await ocm(['up'], { root });
  assert.match(r.stdout, /alice +leave: unchanged and running/, 'the upgraded container matches ocm.yaml');
  assert.match(r.stdout, /bob +leave: unchanged and running/);
  assert.equal((await ocm(['render', '--check'], { root })).code, 0);
});
