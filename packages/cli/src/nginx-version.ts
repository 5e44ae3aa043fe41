// `nginx -v` for doctor: the version, or why nginx cannot be run.
import { execFile } from 'node:child_process';

export function nginxVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-v'], (error, _stdout, stderr) => {
      if (error !== null) reject(new Error(`${binary} cannot be run: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      else resolve(stderr.trim());
    });
  });
}

/** `nginx -t` for doctor: resolves with nginx's verdict, or rejects with its first error line. */
export function nginxTest(binary: string, config: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-t', ...(config === undefined ? [] : ['-c', config])], (error, _stdout, stderr) => {
      const lines = stderr.trim().split('\n');
      if (error !== null) reject(new Error(lines.find((l) => /emerg|error|failed/.test(l)) ?? lines[0] ?? error.message));
      else resolve(lines.find((l) => /syntax is ok|successful/.test(l)) ?? 'configuration ok');
    });
  });
}
