// The bench runs its own bundle of the CLI, made by the project's own
// scripts/bundle-cli.mjs but written to bench/.cli/: other people rebuilding
// dist/cli mid-run would otherwise delete the CLI under a running measurement,
// and a stale dist/cli would measure yesterday's code.
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './proc.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_DIR = join(REPO, 'bench/.cli');

/** Bundles the current sources; returns the path of the `ocm` launcher to run. */
export async function buildCli(): Promise<string> {
  rmSync(CLI_DIR, { recursive: true, force: true });
  mkdirSync(join(CLI_DIR, 'scripts'), { recursive: true });
  mkdirSync(join(CLI_DIR, 'bin'), { recursive: true });
  // The script resolves its output dir from its own location and the entry point and
  // outdir from the working directory: a copy run in CLI_DIR writes CLI_DIR/dist/cli.
  copyFileSync(join(REPO, 'scripts/bundle-cli.mjs'), join(CLI_DIR, 'scripts/bundle-cli.mjs'));
  symlinkSync(join(REPO, 'packages'), join(CLI_DIR, 'packages'));
  // The bundle finds the handlebars sources at ../../templates from dist/cli.
  symlinkSync(join(REPO, 'templates'), join(CLI_DIR, 'templates'));
  copyFileSync(join(REPO, 'bin/ocm'), join(CLI_DIR, 'bin/ocm'));
  copyFileSync(join(REPO, 'package.json'), join(CLI_DIR, 'package.json'));
  await run(process.execPath, [join(CLI_DIR, 'scripts/bundle-cli.mjs')], { cwd: CLI_DIR, timeoutMs: 120_000 });
  const bin = join(CLI_DIR, 'bin/ocm');
  if (!existsSync(join(CLI_DIR, 'dist/cli/main.mjs'))) throw new Error('the CLI bundle was not written');
  await run(process.execPath, [bin, '--help']);
  return bin;
}

/** True when this CLI has the `daemon` command (it is being finished elsewhere). */
export async function hasDaemon(bin: string): Promise<boolean> {
  const r = await run(process.execPath, [bin, 'daemon', '--help'], { check: false });
  return r.code === 0 && /daemon/.test(r.stdout) && /admin|proxy/i.test(r.stdout);
}
