// A hostile tenant against `ocm backup` / `ocm restore`, driven from inside its
// real gateway container as uid 1000: directories swapped for symlinks to a
// root-only host directory in a renameat2(RENAME_EXCHANGE) loop while backups
// and a restore run, setuid bits, and a path that fits PATH_MAX inside the
// container but not on the host. Nothing of the host may reach an archive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { HOME, REAL, ocmSlow, archiveBytes, archiveList, archiveManifest, canary, swapLoop, tenantPerl, tenantSh, treeHolds } from './support.js';

const NAMES = Array.from({ length: 40 }, (_, i) => `f${i}`);
const PAIRS = 4;
const BACKUPS = 6;

test('directories swapped for links to a root-only host dir during backups and a restore never leak the host files', async (t) => {
  const { root, project } = await testRoot(t, REAL);
  const container = `${project}-alice`;
  const added = await ocmSlow(['add', 'alice'], root);
  // Backups need a running container, not a healthy gateway: on a loaded
  // host the real gateway can take longer than the health timeout.
  if (added.code !== 0) {
    assert.equal(spawnSync('docker', ['inspect', '-f', '{{.State.Running}}', container], { encoding: 'utf8' }).stdout.trim(), 'true', added.stderr);
    t.diagnostic(`alice runs but was not healthy in time: ${added.stderr.split('\n')[0]}`);
  }
  const secret = canary(t, NAMES);
  const tb = `${HOME}/workspace/tb`;
  // Each pair: a directory of tenant files, and a link to the host directory holding the same names.
  tenantSh(container, `set -e; mkdir -p "$1"; cd "$1"; for p in $(seq 0 ${PAIRS - 1}); do mkdir d$p; for n in ${NAMES.join(' ')}; do echo tenant > d$p/$n; done; ln -s "$2" l$p; done`, tb, secret.dir);
  // setuid/setgid, which a restore must never hand back.
  tenantSh(container, 'set -e; cd "$1"; printf "#!/bin/sh\\n" > tool; chmod 4755 tool; mkdir sg; chmod 2775 sg', tb);
  // A path under PATH_MAX inside the container (/home/node/.openclaw/...) that is over it on the host.
  const level = 'p'.repeat(200);
  const levels = 19;
  const inside = `${tb}/deep`.length + levels * 201;
  const leaf = 'q'.repeat(4090 - inside - 1);
  const hostLength = `${root}/users/alice/state/workspace/tb/deep`.length + levels * 201 + 1 + leaf.length;
  assert.ok(hostLength > 4096, `host path ${hostLength} bytes`);
  const deepScript = 'my ($base, $level, $n, $leaf, $mode) = @ARGV; chdir $base or die "$base: $!"; '
    + 'if ($mode eq "make") { mkdir "deep" or die; chdir "deep" or die; for (1..$n) { mkdir $level or die "mkdir: $!"; chdir $level or die } open my $f, ">", $leaf or die "$!"; print $f "deep data\\n"; close $f } '
    + 'else { chdir "deep" or die "no deep"; for (1..$n) { chdir $level or die "chdir: $!" } open my $f, "<", $leaf or die "open: $!"; print <$f> } ';
  tenantPerl(container, deepScript, tb, level, String(levels), leaf, 'make');
  try {
    // Older than the snapshot's 2 s racy window, as a prepared attack would be.
    await new Promise((r) => setTimeout(r, 2500));
    const loop = swapLoop(container, Array.from({ length: PAIRS }, (_, p) => [`${tb}/d${p}`, `${tb}/l${p}`] as const));
    let reported = 0;
    let swaps = 0;
    let restored = { code: 1, stdout: '', stderr: '' };
    try {
      for (let i = 0; i < BACKUPS; i++) {
        const r = await ocm(['backup', 'alice'], { root });
        assert.equal(r.code, 0, `backup ${i}: ${r.stderr}`);
        const archive = /(\S+\.tar\.gz)/.exec(r.stdout)?.[1] as string;
        assert.ok(statSync(archive).isFile(), r.stdout);
        assert.ok(!archiveBytes(archive).includes(secret.marker), `backup ${i}: ${archive} holds a root-only host file`);
        const manifest = archiveManifest(archive);
        reported += manifest.skipped.filter((s) => /changed while|leaves the state tree/.test(s.reason)).length;
        assert.ok(archiveList(archive).some((p) => p.endsWith(leaf)), `backup ${i}: the deep file is archived`);
        const verify = await ocm(['backup', 'verify', archive], { root });
        assert.equal(verify.code, 0, verify.stderr);
        await new Promise((r) => setTimeout(r, 1100)); // distinct second-resolution names
      }
      // The restore runs while the loop still swaps (it stops the container itself).
      restored = await ocmSlow(['restore', 'alice', '--yes'], root);
      // Only a gateway too slow to become healthy may fail it (the previous state is then put back).
      if (restored.code !== 0) assert.match(restored.stderr, /healthy/, restored.stderr);
    } finally {
      swaps = await loop.stop().catch(() => -1);
    }
    t.diagnostic(`${BACKUPS} backups and a restore during ${swaps <= 0 ? 'uncounted (the restore stopped the loop with its container)' : swaps} renameat2 swaps; ${reported} swapped entries skipped and reported`);
    assert.ok(reported > 0, 'no backup ever met a swapped entry: the race was not exercised');
    assert.ok(!treeHolds(`${root}/users/alice`, secret.marker), 'a host file came back with the restore');
    if (restored.code !== 0) {
      t.diagnostic(`the restore was put back (gateway not healthy in time): ${restored.stderr.split('\n')[0]}`);
      return;
    }
    const tool = statSync(`${root}/users/alice/state/workspace/tb/tool`);
    assert.equal(tool.mode & 0o7777, 0o755, 'setuid survived the restore');
    assert.equal(statSync(`${root}/users/alice/state/workspace/tb/sg`).mode & 0o7777, 0o775, 'setgid survived the restore');
    assert.equal(tenantPerl(container, deepScript, tb, level, String(levels), leaf, 'read'), 'deep data\n');
  } finally {
    // Node's recursive rm (the temp root's cleanup) stops at PATH_MAX on the host.
    tenantSh(container, 'rm -rf "$1/deep"', tb);
  }
});
