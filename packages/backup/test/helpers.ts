// Shared test helpers: temp dirs that clean up, trees with known content, a
// tree digest to compare restores, and crafted archives for hostile input.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lchown, lstat, mkdir, mkdtemp, open, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import type { TestContext } from 'node:test';
import tar from 'tar-stream';
import { MANIFEST_FORMAT, type BackupManifest, type Clock, type ManifestEntry } from '../src/index.js';
import { formatSidecar } from '../src/sidecar.js';
import { sha256File } from '../src/durable-fs.js';

export async function tempDir(t: TestContext, label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ocm-backup-${label}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function fixedClock(iso: string): Clock & { set(iso: string): void } {
  let now = new Date(iso);
  return { now: () => new Date(now), set: (next: string) => (now = new Date(next)) };
}

export const isRoot = process.getuid?.() === 0;

export interface TreeOptions {
  bigFileBytes?: number;
  /** Period of the big file's random block (see writeRandomFile). */
  bigFilePeriod?: number;
  smallFiles?: number;
}

/** A user's state+config with the shapes that break naive archivers. */
export async function buildUserTree(userDir: string, opts: TreeOptions = {}): Promise<void> {
  const state = join(userDir, 'state');
  const config = join(userDir, 'config');
  await mkdir(join(state, 'agents', 'a1', 'agent'), { recursive: true });
  await mkdir(join(state, 'workspace', 'empty-dir'), { recursive: true });
  await mkdir(config, { recursive: true });
  await writeFile(join(state, 'openclaw.json'), '{ gateway: { mode: "local" } }\n');
  await writeFile(join(state, 'agents', 'a1', 'agent', 'openclaw-agent.sqlite'), randomBytes(64 * 1024));
  await writeFile(join(state, 'workspace', 'café-é.md'), 'é\n');
  await writeFile(join(state, 'workspace', '日本語のメモ.txt'), '日本\n');
  await writeFile(join(state, 'workspace', 'party-🎉.txt'), '🎉\n');
  await writeFile(join(state, 'workspace', `${'long-name-'.repeat(12)}x.txt`), 'long name\n');
  await writeFile(join(state, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(state, 'shared.txt'), 'group readable\n', { mode: 0o640 });
  await writeFile(join(config, 'credentials.key'), randomBytes(32), { mode: 0o600 });
  await symlink('agents/a1/agent/openclaw-agent.sqlite', join(state, 'current.sqlite'));
  await symlink('../openclaw.json', join(state, 'workspace', 'config-link'));
  await chmod(join(state, 'run.sh'), 0o755);
  await chmod(join(state, 'shared.txt'), 0o640);
  await chmod(join(config, 'credentials.key'), 0o600);
  if (opts.bigFileBytes) await writeRandomFile(join(state, 'openclaw.sqlite'), opts.bigFileBytes, opts.bigFilePeriod);
  const small = opts.smallFiles ?? 0;
  for (let d = 0; d * 200 < small; d += 1) {
    const dir = join(state, 'workspace', 'many', `d${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    const batch = Array.from({ length: Math.min(200, small - d * 200) }, (_, k) => d * 200 + k);
    await Promise.all(batch.map((i) => writeFile(join(dir, `f${i}.txt`), `file ${i} ${randomBytes(8).toString('hex')}\n`)));
  }
  // Distinct, sub-second mtimes that a restore must bring back.
  await utimes(join(state, 'openclaw.json'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'));
  await utimes(join(state, 'run.sh'), new Date('2019-12-31T23:59:59.001Z'), new Date('2019-12-31T23:59:59.001Z'));
  await utimes(join(state, 'workspace', 'empty-dir'), new Date('2020-02-29T12:00:00.500Z'), new Date('2020-02-29T12:00:00.500Z'));
  await utimes(join(state, 'shared.txt'), new Date('1965-06-07T08:09:10.110Z'), new Date('1965-06-07T08:09:10.110Z'));
  if (isRoot) {
    for (const p of [state, join(state, 'openclaw.json'), config, join(config, 'credentials.key')]) await lchown(p, 1000, 1000);
    await lchown(join(state, 'current.sqlite'), 1000, 1000);
  }
  await chmod(state, 0o700);
  await chmod(config, 0o700);
}

/**
 * Random content written in 4 MiB chunks (fast, no sparse holes). `period`
 * repeats a random block of that size: under gzip's 32 KiB window the data
 * compresses like a database does, above it the data is incompressible.
 */
export async function writeRandomFile(path: string, bytes: number, period = 4 << 20): Promise<void> {
  const block = randomBytes(period);
  const chunk = Buffer.alloc(4 << 20);
  for (let at = 0; at < chunk.length; at += period) block.copy(chunk, at);
  const handle = await open(path, 'w');
  try {
    for (let written = 0, i = 0; written < bytes; i += 1) {
      chunk.writeUInt32BE(i, 0);
      const n = Math.min(chunk.length, bytes - written);
      await handle.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
}

export interface DigestEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  linkname?: string;
}

async function sha(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size < 1 << 20) return hash.update(await readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Everything a faithful restore must reproduce, keyed by relative path. */
export async function digestTree(root: string): Promise<Map<string, DigestEntry>> {
  const out = new Map<string, DigestEntry>();
  const walk = async (dir: string): Promise<void> => {
    const all = await readdir(dir);
    // Batches keep open files well under the descriptor limit while overlapping I/O.
    for (let i = 0; i < all.length; i += 64) await Promise.all(all.slice(i, i + 64).map(async (name) => {
      const full = join(dir, name);
      const st = await lstat(full);
      const base = { mode: st.mode & 0o7777, mtimeMs: Math.round(st.mtimeMs), uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0 };
      const key = relative(root, full);
      if (st.isSymbolicLink()) out.set(key, { ...base, type: 'symlink', linkname: await readlink(full) });
      else if (st.isDirectory()) {
        out.set(key, { ...base, type: 'directory' });
        await walk(full);
      } else out.set(key, { ...base, type: 'file', sha256: await sha(full, st.size) });
    }));
  };
  await walk(root);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface CraftedEntry {
  header: tar.Header | (Partial<tar.Header> & { name: string });
  body?: Buffer;
}

/**
 * Writes a gzip tar from raw entries, plus (by default) a matching manifest
 * last and a valid sidecar: what an attacker who controls a file would produce.
 */
export async function craftArchive(
  path: string,
  entries: CraftedEntry[],
  opts: { manifest?: boolean; sidecar?: boolean; after?: CraftedEntry[] } = {},
): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(path));
  const add = (e: CraftedEntry): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.body) pack.entry(e.header, e.body, cb);
      else pack.entry(e.header, cb).end(undefined);
    });
  const records: ManifestEntry[] = [];
  for (const e of entries) {
    await add(e);
    const type = (e.header.type ?? 'file') as ManifestEntry['type'];
    const rec: ManifestEntry = { path: e.header.name, type, size: e.body?.length ?? 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0).toISOString() };
    if (e.body) rec.sha256 = createHash('sha256').update(e.body).digest('hex');
    if (e.header.linkname) rec.linkname = e.header.linkname;
    records.push(rec);
  }
  if (opts.manifest !== false) {
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      kind: 'ocm-backup',
      user: 'mallory',
      createdAt: new Date(0).toISOString(),
      consistency: 'none',
      sources: ['state'],
      entries: records,
      skipped: [],
      totals: {
        files: records.filter((r) => r.type === 'file' || r.type === 'link').length,
        directories: records.filter((r) => r.type === 'directory').length,
        symlinks: records.filter((r) => r.type === 'symlink').length,
        bytes: records.reduce((n, r) => n + (r.type === 'file' ? r.size : 0), 0),
      },
    };
    await add({ header: { name: '.ocm-backup.json', type: 'file' }, body: Buffer.from(JSON.stringify(manifest)) });
  }
  for (const e of opts.after ?? []) await add(e);
  pack.finalize();
  await done;
  if (opts.sidecar !== false) await writeSidecarFor(path);
}

export async function writeSidecarFor(path: string): Promise<void> {
  await writeFile(`${path}.sha256`, formatSidecar(path, (await sha256File(path)).sha256));
}

/** Names in a directory, for "nothing was left behind" assertions. */
export async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}
