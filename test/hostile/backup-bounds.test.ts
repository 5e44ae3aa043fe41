// A hostile tenant against the bounds of `ocm backup`, from inside its real
// gateway container as uid 1000: FIFOs with no writer (and a file swapped
// with a FIFO in a renameat2 loop), a 10 GB `truncate -s` file, and more
// files than the limit. Every backup ends in bounded time, a sparse file
// never fills the host's scratch space, and a tree over a limit is refused
// with a clear error before the user is frozen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { testRoot } from '../helpers/ocm-root.js';
import { HOME, REAL, archiveManifest, ocmSlow, pausedSince, swapLoop, tenantSh } from './support.js';
import { ocm } from '../helpers/cli.js';

/** Allocated KiB below `dir` (du counts blocks, so holes cost nothing). */
function allocatedKiB(dir: string): number {
  const r = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0] ?? 0);
}

test('FIFOs, a sparse 10 GB file and a tree over the file limit: bounded, refused before the freeze, never filling the host', async (t) => {
  const { root, project } = await testRoot(t, REAL);
  const container = `${project}-alice`;
  const added = await ocmSlow(['add', 'alice'], root);
  // A backup needs a running container, not a healthy gateway: on a loaded
  // host the real gateway can take longer than the health timeout.
  if (added.code !== 0) {
    const state = spawnSync('docker', ['inspect', '-f', '{{.State.Running}}', container], { encoding: 'utf8' }).stdout.trim();
    assert.equal(state, 'true', added.stderr);
    t.diagnostic(`alice runs but was not healthy in time: ${added.stderr.split('\n')[0]}`);
  }
  const tb = `${HOME}/workspace/tb`;
  const backups = `${root}/backups/alice`;
  const archives = (): string[] => readdirSync(backups).filter((n) => n.endsWith('.tar.gz'));

  // 1. A 10 GB sparse file (nothing allocated) is over the default 8g: refused before any freeze.
  tenantSh(container, 'set -e; mkdir -p "$1"; truncate -s 10G "$1/big"', tb);
  let since = Math.floor(Date.now() / 1000) - 1;
  const sparse = await ocm(['backup', 'alice'], { root });
  assert.notEqual(sparse.code, 0);
  assert.match(sparse.stdout + sparse.stderr, /"alice".*settings\.backup\.maxBytes/);
  assert.equal(pausedSince(container, since), false, 'alice was frozen although her tree was over the limit');
  assert.deepEqual(archives(), []);
  assert.ok(allocatedKiB(backups) < 1024, `${allocatedKiB(backups)} KiB left in ${backups}`);

  // 2. Under the limit (1 GB sparse): the scratch copy keeps the holes while
  //    FIFOs with no writer sit in the tree and a file and a FIFO swap places.
  tenantSh(container, 'set -e; cd "$1"; rm big; truncate -s 1G big; printf head | dd of=big conv=notrunc 2>/dev/null; '
    + 'for i in 0 1 2 3 4 5 6 7; do mkfifo fifo$i; done; echo data > file; mkfifo swapfifo', tb);
  const loop = swapLoop(container, [[`${tb}/file`, `${tb}/swapfifo`]]);
  let peakKiB = 0;
  const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, allocatedKiB(backups))), 100);
  let swaps = 0;
  let backedUp: Awaited<ReturnType<typeof ocm>>;
  try {
    backedUp = await ocm(['backup', 'alice'], { root });
  } finally {
    clearInterval(sampler);
    swaps = await loop.stop().catch(() => -1);
  }
  assert.equal(backedUp.code, 0, `backup with FIFOs in the tree: ${backedUp.stderr}`);
  const [archive] = archives();
  assert.ok(archive !== undefined);
  const manifest = archiveManifest(`${backups}/${archive}`);
  const skipped = manifest.skipped.map((s) => s.path);
  for (let i = 0; i < 8; i++) assert.ok(skipped.includes(`state/workspace/tb/fifo${i}`), `fifo${i} reported: ${skipped.join(', ')}`);
  const big = manifest.entries.find((e) => e.path === 'state/workspace/tb/big');
  assert.ok(big !== undefined, 'the sparse file is archived');
  // The scratch holds one copy of what the gateway really allocated (its
  // databases) and the archive; the 1 GiB of holes must add nothing.
  const stateKiB = allocatedKiB(`${root}/users/alice/state`);
  t.diagnostic(`1 GiB sparse file: peak scratch ${peakKiB} KiB beside ${stateKiB} KiB allocated in the state tree; ${swaps} file/FIFO swaps during the backup`);
  assert.ok(peakKiB < 2 * stateKiB + 32 * 1024, `the backup allocated ${peakKiB} KiB of scratch for ${stateKiB} KiB of state`);

  // 3. More entries than settings.backup.maxFiles: refused before any freeze, naming alice and the limit.
  tenantSh(container, 'set -e; cd "$1"; rm -f big; mkdir many; cd many; i=0; while [ $i -lt 600 ]; do : > f$i; i=$((i+1)); done', tb);
  const yaml = `${root}/ocm.yaml`;
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/maxFiles: \d+/, 'maxFiles: 400'));
  since = Math.floor(Date.now() / 1000) - 1;
  const many = await ocm(['backup', 'alice'], { root });
  assert.notEqual(many.code, 0);
  assert.match(many.stdout + many.stderr, /"alice".*400 files.*settings\.backup\.maxFiles/);
  assert.equal(pausedSince(container, since), false, 'alice was frozen although her tree was over the file limit');
  assert.equal(archives().length, 1, 'nothing new was kept');
  assert.ok(statSync(`${backups}/${archive}`).isFile(), 'the earlier archive is untouched');
});
