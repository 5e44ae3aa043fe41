// A user state the size of a real one with history: a few large files that
// compress a little (mostly random bytes with stretches of log text) and many
// small JSON-ish files that compress well. Owned by the gateway uid, dirs 0700.
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';

export interface StateShape { largeFiles: number; largeMiB: number; smallFiles: number; smallMaxKiB: number }

export const FULL_STATE: StateShape = { largeFiles: 4, largeMiB: 200, smallFiles: 20_000, smallMaxKiB: 22 };
export const QUICK_STATE: StateShape = { largeFiles: 4, largeMiB: 20, smallFiles: 2_000, smallMaxKiB: 22 };

function logText(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2026-11-${String((seed + i) % 28 + 1).padStart(2, '0')}T03:${String(i % 60).padStart(2, '0')}:00Z session=${(seed * 7919 + i * 104729) % 1_000_003} event=message tokens=${(i * 37) % 4096} model=local\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** Writes the files under `stateDir`; returns the bytes written. */
export async function generateState(stateDir: string, shape: StateShape, uid: number, gid: number): Promise<number> {
  let total = 0;
  const media = join(stateDir, 'media');
  mkdirSync(media, { recursive: true, mode: 0o700 });
  const block = 1024 * 1024;
  for (let f = 0; f < shape.largeFiles; f++) {
    const fd = openSync(join(media, `recording-${f + 1}.bin`), 'w', 0o600);
    for (let b = 0; b < shape.largeMiB; b++) {
      // Three of four MiB random, one MiB of log text: gzip has real work but little to gain.
      const chunk = b % 4 === 3 ? logText(block, f * 1000 + b) : randomBytes(block);
      writeSync(fd, chunk);
      total += chunk.length;
    }
    closeSync(fd);
  }
  const perDir = 200;
  for (let i = 0; i < shape.smallFiles; i++) {
    const dir = join(stateDir, 'workspace', 'sessions', `d${String(Math.floor(i / perDir)).padStart(3, '0')}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const size = 1024 + ((i * 2654435761) % ((shape.smallMaxKiB - 1) * 1024));
    const head = JSON.stringify({ id: i, kind: 'session', salt: randomBytes(16).toString('hex') });
    const body = Buffer.concat([Buffer.from(`${head}\n`), logText(size, i)]).subarray(0, size);
    writeFileSync(join(dir, `s${String(i).padStart(5, '0')}.jsonl`), body, { mode: 0o600 });
    total += body.length;
  }
  await run('chown', ['-R', `${uid}:${gid}`, stateDir]);
  await run('chmod', ['-R', 'go-rwx', stateDir]);
  return total;
}
