// Driving a hostile tenant from inside its real gateway container (uid 1000,
// perl and sh from the image), and reading what root ocm made of it.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { OCM_BIN, type CliResult } from '../helpers/cli.js';

export const HOME = '/home/node/.openclaw';

/**
 * The real gateway; OCM_TEST_GATEWAY_IMAGE names another build of it (e.g. one
 * with a fix to the image not yet built on this host).
 */
export const REAL: { real: true; image?: string } = process.env.OCM_TEST_GATEWAY_IMAGE ? { real: true, image: process.env.OCM_TEST_GATEWAY_IMAGE } : { real: true };

/** `ocm` for steps that wait on a real gateway's health (a loaded 2-CPU host needs minutes), bounded all the same. */
export function ocmSlow(args: string[], root: string, timeoutMs = 420_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [OCM_BIN, '--root', root, ...args], { env: { ...process.env, OCM_ROOT: '' }, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `script` with sh as the gateway user inside `container`; throws on failure. */
export function tenantSh(container: string, script: string, ...args: string[]): string {
  const r = spawnSync('docker', ['exec', '-u', '1000', container, 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tenant script failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function tenantPerl(container: string, script: string, ...args: string[]): string {
  const r = spawnSync('docker', ['exec', '-u', '1000', container, 'perl', '-e', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tenant perl failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A renameat2(RENAME_EXCHANGE) loop over pairs of paths, run by the tenant
 * until `stop()` (or `seconds`, whichever is first); resolves to the number of swaps.
 */
export function swapLoop(container: string, pairs: ReadonlyArray<readonly [string, string]>, seconds = 300): { stop(): Promise<number> } {
  const stopFile = `${HOME}/.tb-stop-${randomBytes(4).toString('hex')}`;
  // syscall 316 is renameat2 on x86_64; -100 is AT_FDCWD; 2 is RENAME_EXCHANGE.
  const script = 'my ($stop, $secs, @p) = @ARGV; my $n = 0; my $end = time + $secs; '
    + 'while (time < $end && !-e $stop) { for (my $r = 0; $r < 200; $r++) { for (my $i = 0; $i < @p; $i += 2) { syscall(316, -100, $p[$i], -100, $p[$i+1], 2) == 0 or die "renameat2: $!"; $n++ } } } print "$n\n";';
  const child: ChildProcess = spawn('docker', ['exec', '-u', '1000', container, 'perl', '-e', script, stopFile, String(seconds), ...pairs.flat()], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number>((resolve) => child.on('close', () => resolve(Number(out.trim()) || 0)));
  return {
    async stop() {
      spawnSync('docker', ['exec', '-u', '1000', container, 'touch', stopFile]);
      const n = await Promise.race([done, new Promise<number>((r) => setTimeout(() => r(-1), 20_000))]);
      if (n < 0) child.kill('SIGKILL');
      if (err !== '') throw new Error(`swap loop: ${err}`);
      return n;
    },
  };
}

/** A root-only directory of root-only files holding a unique marker: what must never leak. */
export function canary(t: TestContext, names: readonly string[]): { dir: string; marker: string } {
  const dir = mkdtempSync('/tmp/ocmt-tb-canary-');
  chmodSync(dir, 0o700);
  const marker = `OCMT-CANARY-${randomBytes(12).toString('hex')}`;
  for (const n of names) writeFileSync(`${dir}/${n}`, `${marker}\n`, { mode: 0o600 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, marker };
}

/** Every byte of every entry of a .tar.gz, as text (tar itself lists and reads it). */
export function archiveBytes(archive: string): string {
  const r = spawnSync('tar', ['-xzOf', archive], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar -xzOf ${archive}: ${r.stderr.toString()}`);
  return r.stdout.toString('latin1');
}

export function archiveList(archive: string): string[] {
  const r = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tar -tzf ${archive}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

export interface ArchiveManifest {
  skipped: Array<{ path: string; reason: string }>;
  entries: Array<{ path: string; type: string; mode: number }>;
}

export function archiveManifest(archive: string): ArchiveManifest {
  const r = spawnSync('tar', ['-xzOf', archive, '.ocm-backup.json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`manifest of ${archive}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ArchiveManifest;
}

/** grep -r (never -R: links are not followed) for `marker` below `dir`. */
export function treeHolds(dir: string, marker: string): boolean {
  return spawnSync('grep', ['-rlF', marker, dir]).status === 0;
}

/** Did docker record a pause of `container` since `sinceSec` (unix seconds)? */
export function pausedSince(container: string, sinceSec: number): boolean {
  const r = spawnSync('docker', ['events', '--since', String(sinceSec), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${container}`, '--filter', 'event=pause', '--format', '{{.Action}}'], { encoding: 'utf8' });
  return r.stdout.includes('pause');
}
