// The single streaming pipeline of a backup: tar pack -> gzip (on every core) -> sha256 tap ->
// temp file, fed entry by entry; memory stays bounded whatever the tree size.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { MANIFEST_NAME } from './archive-name.js';
import type { BackupManifest, SkippedEntry } from './manifest.js';
import { DEFAULT_GZIP_LEVEL, ParallelGzip } from './parallel-gzip.js';
import { packBuffer, packEntries, type OpenBody } from './tar-writer.js';
import type { WalkedEntry } from './walk-tree.js';

export interface ArchiveProgress {
  bytesRead: number;
  totalBytes: number;
}

export interface WriteArchiveOptions {
  partial: string;
  entries: readonly WalkedEntry[];
  open: OpenBody;
  /** The manifest of what was packed, given the files left out while packing. */
  manifestOf: (records: BackupManifest['entries'], skipped: SkippedEntry[]) => BackupManifest;
  /** Called once the last source byte is read (the guard's leave), before the manifest is packed. */
  afterLastRead: () => Promise<void>;
  /** Gives the write up (a timeout): the partial file is left for the caller to remove. */
  signal?: AbortSignal;
  gzipLevel?: number;
  onProgress?: (progress: ArchiveProgress) => void;
}

export interface WrittenArchive {
  sha256: string;
  bytes: number;
  manifest: BackupManifest;
}

const PROGRESS_STEP = 16 << 20;

function hashTap(hash: ReturnType<typeof createHash>, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/** Writes `partial` (created 0600, never overwritten); the caller fsyncs and renames it. */
export async function writeArchive(opts: WriteArchiveOptions): Promise<WrittenArchive> {
  const { partial, entries, open: openBody, manifestOf, afterLastRead } = opts;
  const pack = tar.pack();
  const hash = createHash('sha256');
  const counter = { bytes: 0 };
  const abort = new AbortController();
  const piped = pipeline(pack, new ParallelGzip({ level: opts.gzipLevel ?? DEFAULT_GZIP_LEVEL }), hashTap(hash, counter), createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
  piped.catch((error: unknown) => abort.abort(error));
  const totalBytes = entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  let bytesRead = 0;
  let reported = 0;
  const onRead = (n: number): void => {
    bytesRead += n;
    if (bytesRead - reported < PROGRESS_STEP) return;
    reported = bytesRead;
    opts.onProgress?.({ bytesRead, totalBytes });
  };
  try {
    const { records, skipped } = await packEntries(pack, entries, openBody, { signal: opts.signal ? AbortSignal.any([abort.signal, opts.signal]) : abort.signal, onRead });
    await afterLastRead();
    const manifest = manifestOf(records, skipped);
    await packBuffer(pack, MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`), new Date(manifest.createdAt));
    pack.finalize();
    await piped;
    return { sha256: hash.digest('hex'), bytes: counter.bytes, manifest };
  } catch (error) {
    pack.destroy(error as Error);
    await piped.catch(() => undefined);
    throw error;
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
