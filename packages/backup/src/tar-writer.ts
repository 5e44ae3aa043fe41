// Feeds walked entries into a tar pack, hashing each file while it streams, so
// the manifest's checksums cost no second read and memory stays bounded.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { addAbortSignal } from 'node:stream';
import type { Pack } from 'tar-stream';
import { OcmError } from '@ocm/core';
import type { ManifestEntry, SkippedEntry } from './manifest.js';
import type { OpenedLeaf } from './tree-fs.js';
import type { WalkedEntry } from './walk-tree.js';

/** Opens a file's body to archive (a verified descriptor), or says why it is left out. */
export type OpenBody = (e: WalkedEntry) => Promise<OpenedLeaf>;

type Header = Parameters<Pack['entry']>[0];
type Sink = ReturnType<Pack['entry']>;

export interface FeedOptions {
  signal: AbortSignal;
  /** Called with the number of source bytes read so far. */
  onRead?: (bytes: number) => void;
}

function headerOf(e: WalkedEntry, size: number): Header {
  // ustar cannot hold times before 1970; the manifest keeps the real one.
  const header: Header = { name: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(Math.max(0, e.mtimeMs)), size };
  if (e.linkname !== undefined) header.linkname = e.linkname;
  return header;
}

function entryDone(pack: Pack, header: Header): { sink: Sink; done: Promise<void> } {
  let sink: Sink | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  // Callers may leave before awaiting `done` (the pipeline aborted, e.g. ENOSPC);
  // the failure is theirs to report, so an early exit must not leave it unhandled.
  done.catch(() => undefined);
  return { sink: sink as Sink, done };
}

// Files up to this size are read with one read(2) into one buffer: no stream
// machinery per file, which dominates for thousands of small files.
const SMALL_FILE = 1 << 20;
const READ_AHEAD = 16;

async function readSmall(open: OpenBody, e: WalkedEntry): Promise<Buffer | { skip: string }> {
  const opened = await open(e);
  if ('skip' in opened) return opened;
  const { handle } = opened;
  try {
    const buf = Buffer.allocUnsafe(e.size);
    let filled = 0;
    while (filled < e.size) {
      const { bytesRead } = await handle.read(buf, filled, e.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function shrank(e: WalkedEntry, read: number): OcmError {
  return new OcmError('OCM_E_BACKUP_FAILED', `${JSON.stringify(e.display)} shrank from ${e.size} to ${read} bytes while it was read`, {
    hint: 'the file changed during the backup; use consistency mode pause or stop',
  });
}

/** Packs one file; the sha256 of its body, or why it was left out (nothing was written for it then). */
async function packFile(pack: Pack, e: WalkedEntry, open: OpenBody, opts: FeedOptions, small?: Promise<Buffer | { skip: string }>): Promise<string | { skip: string }> {
  if (small) {
    const body = await small;
    if (!Buffer.isBuffer(body)) return body;
    if (body.length !== e.size) throw shrank(e, body.length);
    opts.onRead?.(body.length);
    await new Promise<void>((resolve, reject) => {
      pack.entry(headerOf(e, e.size), body, (err) => (err ? reject(err) : resolve()));
    });
    return createHash('sha256').update(body).digest('hex');
  }
  const opened = e.size > 0 ? await open(e) : undefined;
  if (opened && 'skip' in opened) return opened;
  const hash = createHash('sha256');
  let read = 0;
  try {
    const { sink, done } = entryDone(pack, headerOf(e, e.size));
    if (opened) {
      // Read exactly the size the header announced: a file that grew keeps its
      // frozen length, one that shrank fails the backup below.
      const stream = addAbortSignal(opts.signal, opened.handle.createReadStream({ start: 0, end: e.size - 1, highWaterMark: 1 << 20, autoClose: false }));
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        hash.update(buf);
        read += buf.length;
        opts.onRead?.(buf.length);
        if (!sink.write(buf)) await once(sink, 'drain', { signal: opts.signal });
      }
    }
    if (read !== e.size) {
      sink.destroy();
      await done.catch(() => undefined);
      throw shrank(e, read);
    }
    sink.end(undefined);
    await done;
  } finally {
    await opened?.handle.close();
  }
  return hash.digest('hex');
}

function manifestEntryOf(e: WalkedEntry, sha256?: string): ManifestEntry {
  const out: ManifestEntry = {
    path: e.path,
    type: e.type,
    size: e.type === 'file' ? e.size : 0,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: new Date(Math.round(e.mtimeMs)).toISOString(),
  };
  if (sha256 !== undefined) out.sha256 = sha256;
  if (e.linkname !== undefined) out.linkname = e.linkname;
  return out;
}

/** Packs every entry (file bodies from `open(e)`), returning their manifest records and the files left out. */
export async function packEntries(
  pack: Pack,
  entries: readonly WalkedEntry[],
  open: OpenBody,
  opts: FeedOptions,
): Promise<{ records: ManifestEntry[]; skipped: SkippedEntry[] }> {
  const records: ManifestEntry[] = [];
  const skipped: SkippedEntry[] = [];
  // Small files are read a few entries ahead (at most READ_AHEAD MiB in memory),
  // so the many small reads overlap instead of queueing one by one.
  const ahead = new Map<number, Promise<Buffer | { skip: string }>>();
  let cursor = 0;
  const prefetch = (upTo: number): void => {
    for (; cursor < upTo && cursor < entries.length; cursor += 1) {
      const f = entries[cursor];
      if (!f || f.type !== 'file' || f.size > SMALL_FILE) continue;
      const read = readSmall(open, f);
      read.catch(() => undefined);
      ahead.set(cursor, read);
    }
  };
  for (const [i, e] of entries.entries()) {
    opts.signal.throwIfAborted();
    prefetch(i + READ_AHEAD);
    const small = ahead.get(i);
    ahead.delete(i);
    if (e.type === 'file') {
      const sha = await packFile(pack, e, open, opts, small);
      if (typeof sha === 'string') records.push(manifestEntryOf(e, sha));
      else skipped.push({ path: e.path, reason: sha.skip });
    } else {
      const { sink, done } = entryDone(pack, headerOf(e, 0));
      sink.end(undefined);
      await done;
      records.push(manifestEntryOf(e));
    }
  }
  return { records, skipped };
}

/** The manifest goes last: its presence proves the writer reached the end. */
export async function packBuffer(pack: Pack, name: string, body: Buffer, mtime: Date): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name, type: 'file', mode: 0o600, mtime, size: body.length }, body, (err) => (err ? reject(err) : resolve()));
  });
}
