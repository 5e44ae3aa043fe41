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
