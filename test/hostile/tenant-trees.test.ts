// A hostile tenant against root ocm, driven from inside her real OpenClaw
// gateway as uid 1000 while the admin commands run: links, FIFOs, /dev/zero
// and broken JSON at openclaw.json, file/symlink and directory/symlink swaps
// with renameat2(RENAME_EXCHANGE), a freeze left by a killed daemon. Each
// time a canary directory outside the deployment root must keep its content,
// mode and owner, and the other users' edits must go through.
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { ocm, snapshot, tempDir, type CliResult } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { getDocker } from '../support/docker.js';
import { startDaemon } from '../reliability/support/daemon.js';

const docker = getDocker();
const STATE = '/home/node/.openclaw';

/** A shell command as the gateway's uid inside the container, bounded in time. */
function tenant(container: string, script: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('docker', ['exec', '-u', '1000:1000', container, 'sh', '-c', script], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1, stdout, stderr });
    });
  });
}

/** A long-running attack inside the container; resolves `ready` when it printed its first line. */
function racer(t: TestContext, container: string, perl: string, args: string[]): { ready: Promise<void>; done: Promise<string>; child: ChildProcess } {
  const child = spawn('docker', ['exec', '-u', '1000:1000', container, 'perl', '-e', perl, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) markReady(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<string>((resolve) => child.on('close', () => { markReady(); resolve(out); }));
  return { ready, done, child };
}

/** Host files outside the root that the tenant aims root at. */
function canary(t: TestContext): { dir: string; check(): void } {
  const dir = tempDir(t, 'ocm-canary-');
  mkdirSync(`${dir}/keep/deeper`, { recursive: true });
  writeFileSync(`${dir}/host.json`, '{"host":true}\n');
  chmodSync(`${dir}/host.json`, 0o640);
  for (let i = 0; i < 20; i++) writeFileSync(`${dir}/keep/f${i}`, `precious ${i}\n`);
  writeFileSync(`${dir}/keep/deeper/g`, 'deeper\n');
  const before = snapshot(dir);
  return { dir, check: () => assert.deepEqual(snapshot(dir), before, 'the canary outside the root changed') };
}

// `set` prints file changes on stderr, `render` on stdout.
const warned = (r: CliResult, why: RegExp): boolean => `${r.stderr}\n${r.stdout}`.split('\n').some((l) => l.startsWith('warning: users/eve/state/openclaw.json') && why.test(l));

// Swap two names with renameat2(RENAME_EXCHANGE) (syscall 316 on x86_64) until `seconds` pass.
const SWAP_FILE = `
  chdir $ARGV[0] or die "chdir: $!"; unlink "openclaw.json", "l";
  symlink($ARGV[1], "l") or die "symlink: $!";
  open(F, ">openclaw.json") or die; print F "{}"; close F;
  my ($a, $b) = ("openclaw.json", "l"); my $end = time + $ARGV[2]; my $n = 0;
  $| = 1; print "ready\\n";
  while (time < $end) { syscall(316, -100, $a, -100, $b, 2) == 0 or die "renameat2: $!"; $n++ }
  print "swaps $n\\n";`;

const SWAP_DIRS = `
  chdir $ARGV[0] or die "chdir: $!"; my $pairs = $ARGV[2];
  for my $i (1..$pairs) { mkdir "d$i"; open(F, ">d$i/f"); print F "x"; close F; unlink "l$i"; symlink($ARGV[1], "l$i") or die "symlink: $!"; }
  my @p = map { ["d$_", "l$_"] } 1..$pairs; my $end = time + $ARGV[3]; my $n = 0;
  $| = 1; print "ready\\n";
  while (time < $end) { for my $x (@p) { my ($a, $b) = @$x; syscall(316, -100, $a, -100, $b, 2) == 0 and $n++ } }
  print "swaps $n\\n";`;

test('a hostile tenant cannot make root ocm follow, block on or trust her files', { timeout: 900_000 }, async (t) => {
  const { root, project } = await testRoot(t, { real: true });
  const eve = `${project}-eve`;
  // Each finding gets its own canary, so one finding's damage never shows up as another's.
  // eve takes the config attacks; mallory, whose gateway those never touch, the purge race.
  const mallory = `${project}-mallory`;
  let r = await ocm(['add', 'eve', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'mallory', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  // On a loaded host the real gateway's first start sometimes exits before it settles; a second up is fine.
  for (let attempt = 1; attempt <= 3; attempt++) {
    r = await ocm(['up', 'eve', 'mallory'], { root });
    if (r.code === 0) break;
    t.diagnostic(`up, attempt ${attempt}: ${r.stderr.split('\n')[0] ?? ''}`);
  }
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'bob', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  // A config the gateway cannot use makes it exit and restart, and a restarting container
  // refuses exec. So the config attacks run from a second container with exactly eve's
  // access: her state mount, uid 1000, no capabilities, no network.
  const helper = `${project}-eve-tenant`;
  const made = await new Promise<CliResult>((resolve) => execFile('docker', ['run', '-d', '--name', helper, '--label', 'ocm.test=1',
    '--user', '1000:1000', '--network', 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '-v', `${root}/users/eve/state:${STATE}`, '--entrypoint', 'sleep', 'ocm-openclaw:2026.9.6', '3600'],
  (error, stdout, stderr) => resolve({ code: error === null ? 0 : 1, stdout, stderr })));
  assert.equal(made.code, 0, made.stderr);
  t.after(() => docker.getContainer(helper).remove({ force: true }).catch(() => undefined));
  /** Wait until a user's own container runs (not restarting or paused). */
  const untilRunning = async (container: string): Promise<void> => {
    for (let i = 0; i < 240; i++) {
      const state = (await docker.getContainer(container).inspect()).State;
      if (state.Running && !state.Restarting && !state.Paused) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    assert.fail(`${container} never ran`);
  };
  const bobConfig = (): string => readFileSync(`${root}/users/bob/state/openclaw.json`, 'utf8');
  const bobBefore = bobConfig();

  await t.test('finding 2: a symlinked openclaw.json is never written or chowned through', async (t) => {
    const host = canary(t);
    const link = await tenant(helper, `ln -sfn ${host.dir}/host.json ${STATE}/openclaw.json`);
    assert.equal(link.code, 0, link.stderr);
    const set = await ocm(['set', 'bob', '--memory', '1200m'], { root });
    assert.equal(set.code, 0, set.stderr);
    assert.ok(warned(set, /symbolic link/), set.stderr);
    assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), /memory: 1200m/);
    const render = await ocm(['render'], { root });
    assert.equal(render.code, 0, render.stderr);
    host.check();
    // Pointed at bob's own config: eve's origin must not land in bob's trusted proxies.
    await tenant(helper, `ln -sfn ${root}/users/bob/state/openclaw.json ${STATE}/openclaw.json`);
    assert.equal((await ocm(['render'], { root })).code, 0);
    assert.equal(bobConfig(), bobBefore);
    host.check();
  });

  await t.test('finding 2 under a race: file and symlink swapped while ocm renders', async (t) => {
    const host = canary(t);
    const attack = racer(t, helper, SWAP_FILE, [STATE, `${host.dir}/host.json`, '20']);
    await attack.ready;
    let renders = 0;
    const warnings = new Set<string>();
    const end = Date.now() + 15_000;
    while (Date.now() < end && attack.child.exitCode === null) {
      const render = await ocm(['render'], { root });
      assert.equal(render.code, 0, render.stderr);
      for (const line of `${render.stderr}\n${render.stdout}`.split('\n')) if (line.startsWith('warning:')) warnings.add(line.slice(0, 80));
      renders++;
      host.check();
    }
    attack.child.kill('SIGKILL');
    const out = await attack.done;
    t.diagnostic(`${renders} renders during the race; racer: ${out.trim()}; warnings seen: ${[...warnings].join(' | ')}`);
    assert.ok(renders >= 3, `only ${renders} renders ran during the race`);
    host.check();
  });

  await t.test('finding 5: a FIFO, /dev/zero and broken JSON block nobody', async (t) => {
    const host = canary(t);
    const cases: Array<[string, string, RegExp]> = [
      ['fifo', `rm -f ${STATE}/openclaw.json && mkfifo ${STATE}/openclaw.json`, /FIFO/],
      ['dev-zero', `rm -f ${STATE}/openclaw.json && ln -s /dev/zero ${STATE}/openclaw.json`, /symbolic link/],
      ['broken', `rm -f ${STATE}/openclaw.json && printf '{"gateway": ' > ${STATE}/openclaw.json`, /JSON5/],
      ['huge', `rm -f ${STATE}/openclaw.json && truncate -s 10G ${STATE}/openclaw.json`, /over the 1048576-byte limit/],
    ];
    let memory = 1300;
    for (const [what, script, why] of cases) {
      const planted = await tenant(helper, script);
      assert.equal(planted.code, 0, `${what}: ${planted.stderr}`);
      const set = await ocm(['set', 'bob', '--memory', `${memory}m`], { root });
      assert.equal(set.code, 0, `${what}: ${set.stderr}`);
      assert.ok(warned(set, why), `${what}: ${set.stderr}`);
      assert.match(readFileSync(`${root}/ocm.yaml`, 'utf8'), new RegExp(`memory: ${memory}m`));
      // eve's own gateway may refuse such a config and restart; up must still finish, and warn.
      const up = await ocm(['up', 'eve', '--no-wait'], { root });
      assert.ok(warned(up, why), `${what}: ${up.stderr}`);
      memory += 100;
    }
    host.check();
    await tenant(helper, `rm -f ${STATE}/openclaw.json ${STATE}/l`);
    assert.equal((await ocm(['render'], { root })).code, 0);
    await docker.getContainer(helper).remove({ force: true });
  });

  await t.test('finding 8: a daemon that starts thaws a gateway left paused', async (t) => {
    await untilRunning(eve);
    await docker.getContainer(eve).pause();
    t.after(() => docker.getContainer(eve).unpause().catch(() => undefined));
    const running = await startDaemon(t, root);
    // Thawed: running, or restarting when her gateway exits on its own after the long freeze.
    assert.notEqual((await docker.getContainer(eve).inspect()).State.Status, 'paused');
    assert.ok(running.logs.some((l) => l.includes('thawed a gateway left paused')), 'the daemon logged the thaw');
    await running.daemon.stop();
  });

  await t.test('finding 1: purge while mallory swaps 300 directories with links out', async (t) => {
    const host = canary(t);
    // Her gateway may still restart on this loaded host; start the racer once her container runs.
    let attack: ReturnType<typeof racer> | undefined;
    for (let attempt = 1; attempt <= 5 && attack === undefined; attempt++) {
      await untilRunning(mallory);
      const tried = racer(t, mallory, SWAP_DIRS, [STATE, `${host.dir}/keep`, '300', '60']);
      await tried.ready;
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (tried.child.exitCode === null) attack = tried;
      else t.diagnostic(`racer attempt ${attempt}: ${await tried.done}`);
    }
    assert.ok(attack !== undefined, 'the racer never ran inside mallory');
    const purge = await ocm(['remove', 'mallory', '--purge', '--yes'], { root });
    const out = await attack.done;
    assert.doesNotMatch(out, /Error response from daemon/);
    t.diagnostic(`racer: ${out.trim() || '(killed with its container)'}`);
    assert.equal(purge.code, 0, purge.stderr);
    host.check();
    assert.equal(existsSync(`${root}/users/mallory`), false);
    assert.deepEqual(readdirSync(`${root}/.trash`), []);
    assert.deepEqual(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [mallory] }) }), []);
    const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target?: string });
    assert.deepEqual(audit.at(-1)?.action, 'user.purge');
    assert.equal(bobConfig(), bobBefore);
  });
});
