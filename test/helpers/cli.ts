// Run the real `bin/ocm` (compiled) in a child process, as a user would.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const OCM_BIN = new URL('../../bin/ocm', import.meta.url).pathname;

export interface CliResult { code: number; stdout: string; stderr: string }

export function ocm(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv; prefix?: string[]; timeoutMs?: number } = {}): Promise<CliResult> {
  const argv = [...(options.root === undefined ? [] : ['--root', options.root]), ...args];
  const [cmd, cmdArgs] = options.prefix === undefined ? [process.execPath, [OCM_BIN, ...argv]] : [options.prefix[0] as string, [...options.prefix.slice(1), process.execPath, OCM_BIN, ...argv]];
  return new Promise((resolve) => {
    execFile(cmd, cmdArgs, { env: { ...process.env, OCM_ROOT: '', ...options.env }, timeout: options.timeoutMs ?? 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temp dir removed when the test ends, pass or fail. */
export function tempDir(t: TestContext, prefix = 'ocm-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** path -> sha256 + mode of every file and dir below root: "byte-identical" made checkable. */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      const r = rel === '' ? entry : `${rel}/${entry}`;
      const info = lstatSync(path);
      // A lock directory held at that moment (the daemon refreshing the
      // network policy in the background) is no change to the root.
      if (info.isDirectory() && entry.endsWith('.lock')) continue;
      if (info.isDirectory()) {
        out.set(`${r}/`, `dir ${(info.mode & 0o7777).toString(8)} ${info.uid}`);
        walk(path, r);
      } else {
        out.set(r, `${(info.mode & 0o7777).toString(8)} ${info.uid} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
      }
    }
  };
  walk(root, '');
  return out;
}
