// Child processes for the bench: run to completion with a wall-clock time and
// a hard timeout, optionally under /usr/bin/time -v for the peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
  /** Maximum resident set size in KiB (with measureRss). */
  peakRssKb?: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 10 min. */
  timeoutMs?: number;
  /** Run under /usr/bin/time -v and report the peak RSS. */
  measureRss?: boolean;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
}

export class CommandError extends Error {
  constructor(readonly command: string, readonly result: RunResult) {
    super(`${command} exited ${result.code}:\n${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

export function describe(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  let timeFile: string | undefined;
  let argv = [cmd, ...args];
  if (options.measureRss) {
    const dir = mkdtempSync(join(tmpdir(), 'ocm-bench-time-'));
    timeFile = join(dir, 'time.txt');
    argv = ['/usr/bin/time', '-v', '-o', timeFile, ...argv];
  }
  const started = process.hrtime.bigint();
  const result = await new Promise<RunResult>((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${String(err)}`, ms: 0 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr, ms });
    });
  });
  if (timeFile !== undefined) {
    const text = readFileSync(timeFile, 'utf8');
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    if (rss) result.peakRssKb = Number(rss[1]);
    rmSync(join(timeFile, '..'), { recursive: true, force: true });
  }
  if (options.check !== false && result.code !== 0) throw new CommandError(describe(cmd, args), result);
  return result;
}
