// Feeds walked entries into a tar pack, hashing each file while it streams, so
// the manifest's checksums cost no second read and memory stays bounded.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import type { Pack } from 'tar-stream';
import { OcmError } from '@ocm/core';
import type { ManifestEntry } from './manifest.js';
import type { WalkedEntry } from './walk-tree.js';

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

async function readSmall(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function shrank(e: WalkedEntry, read: number): OcmError {
  return new OcmError('OCM_E_BACKUP_FAILED', `${JSON.stringify(e.source)} shrank from ${e.size} to ${read} bytes while it was read`, {
    hint: 'the file changed during the backup; use consistency mode pause or stop',
  });
}

async function packFile(pack: Pack, e: WalkedEntry, readFrom: string, opts: FeedOptions, small?: Promise<Buffer>): Promise<string> {
  if (small) {
    const body = await small;
    if (body.length !== e.size) throw shrank(e, body.length);
    opts.onRead?.(body.length);
    await new Promise<void>((resolve, reject) => {
      pack.entry(headerOf(e, e.size), body, (err) => (err ? reject(err) : resolve()));
    });
    return createHash('sha256').update(body).digest('hex');
  }
  const hash = createHash('sha256');
  const { sink, done } = entryDone(pack, headerOf(e, e.size));
  let read = 0;
  if (e.size > 0) {
    // Read exactly the size the header announced: a file that grew keeps its
    // frozen length, one that shrank fails the backup below.
    const stream = addAbortSignal(opts.signal, createReadStream(readFrom, { start: 0, end: e.size - 1, highWaterMark: 1 << 20 }));
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

/** Packs every entry (files read from `readFrom(e)`), returning their manifest records. */
export async function packEntries(
  pack: Pack,
  entries: readonly WalkedEntry[],
  readFrom: (e: WalkedEntry) => string,
  opts: FeedOptions,
): Promise<ManifestEntry[]> {
  const records: ManifestEntry[] = [];
  // Small files are read a few entries ahead (at most READ_AHEAD MiB in memory),
  // so the many small reads overlap instead of queueing one by one.
  const ahead = new Map<number, Promise<Buffer>>();
  let cursor = 0;
  const prefetch = (upTo: number): void => {
    for (; cursor < upTo && cursor < entries.length; cursor += 1) {
      const f = entries[cursor];
      if (!f || f.type !== 'file' || f.size > SMALL_FILE) continue;
      const read = readSmall(readFrom(f), f.size);
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
      records.push(manifestEntryOf(e, await packFile(pack, e, readFrom(e), opts, small)));
    } else {
      const { sink, done } = entryDone(pack, headerOf(e, 0));
      sink.end(undefined);
      await done;
      records.push(manifestEntryOf(e));
    }
  }
  return records;
}

/** The manifest goes last: its presence proves the writer reached the end. */
export async function packBuffer(pack: Pack, name: string, body: Buffer, mtime: Date): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name, type: 'file', mode: 0o600, mtime, size: body.length }, body, (err) => (err ? reject(err) : resolve()));
  });
}
