// Start the real CLI and SIGKILL it at a chosen moment, the way a crash, an
// OOM kill or a power cut would end it: no handlers, no cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { OCM_BIN, ocm, type CliResult } from '../../helpers/cli.js';
import { sleep } from './measure.js';

export interface KillOutcome { killed: boolean; ranMs: number; code: number | null; stderr: string }

export function startCli(root: string, args: string[], prefix: string[] = []): ChildProcess {
  const [cmd, ...rest] = [...prefix, process.execPath, OCM_BIN, '--root', root, ...args];
  return spawn(cmd as string, rest, { env: { ...process.env, OCM_ROOT: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs `ocm <args>` and kills it after delayMs unless it finished first. */
export async function runAndKill(root: string, args: string[], delayMs: number): Promise<KillOutcome> {
  const t0 = Date.now();
  const child = startCli(root, args);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const first = await Promise.race([exited.then(() => 'exited' as const), sleep(delayMs).then(() => 'timer' as const)]);
  if (first === 'timer' && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
    return { killed: true, ranMs: Date.now() - t0, code: null, stderr };
  }
  return { killed: false, ranMs: Date.now() - t0, code: await exited, stderr };
}

/** A small seeded generator, so a failing run can be repeated (OCM_KILL_SEED). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `ocm` as in helpers/cli.ts, run again when the bundled CLI was being
 * rebuilt underneath it (a shared checkout: `npm run build` replaces dist/
 * chunk by chunk). That is the build, not ocm, so it is not counted.
 */
export async function ocmSettled(args: string[], options: { root: string }): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await ocm(args, options);
    if (attempt >= 4 || !/Cannot find module '[^']*\/dist\/cli\//.test(r.stderr)) return r;
    await sleep(3_000);
  }
}
