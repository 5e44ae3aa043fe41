// The file `ocm export` writes and `ocm import` reads: a plain tar of exactly
// two members, a small versioned JSON description and the user's backup
// archive (the same .tar.gz `ocm backup` makes). The description carries the
// payload's sha256; the payload carries its own per-file checksums, so the
// import reuses every check a restore makes.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable, type Writable } from 'node:stream';
import tar from 'tar-stream';
import { OcmError, isOcmError } from '@ocm/core';

export const EXPORT_FORMAT = 'ocm-export';
export const EXPORT_VERSION = 1;
export const EXPORT_META = 'ocm-export.json';
export const EXPORT_PAYLOAD = 'state.tar.gz';
/** The description is a few hundred bytes; anything near this is not one. */
const MAX_META = 64 << 10;
/** Tar headers, padding and end blocks around the two members, with room for any tar's blocking. */
const TAR_SLACK = 1 << 20;

export interface ExportMeta {
  format: typeof EXPORT_FORMAT;
  version: number;
  createdAt: string;
  /** The user's manifest entry as exported (validated by the importer against its own schema). */
  user: unknown;
  payload: { sha256: string; bytes: number };
}

export function invalidExport(file: string, why: string, cause?: unknown): OcmError {
  return new OcmError('OCM_E_IMPORT_INVALID', `${file}: ${why}`, { details: { file }, ...(cause === undefined ? {} : { cause }) });
}

/** Streams the bundle of `meta` and the archive at `payload` to `out`. */
export async function writeBundle(out: Writable, meta: { createdAt: string; user: unknown }, payload: string, sha256: string): Promise<void> {
  const { size } = await stat(payload);
  const full: ExportMeta = { format: EXPORT_FORMAT, version: EXPORT_VERSION, ...meta, payload: { sha256, bytes: size } };
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const mtime = new Date(full.createdAt);
  pack.entry({ name: EXPORT_META, mode: 0o600, mtime }, `${JSON.stringify(full, null, 2)}\n`);
  const entry = pack.entry({ name: EXPORT_PAYLOAD, mode: 0o600, mtime, size }, (error) => {
    if (error) pack.destroy(error);
    else pack.finalize();
  });
  await pipeline(createReadStream(payload), entry);
  await done;
}

function parseMeta(file: string, text: string): ExportMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidExport(file, `its ${EXPORT_META} is not JSON`, error);
  }
  const m = value as Partial<ExportMeta> | null;
  if (m === null || typeof m !== 'object' || m.format !== EXPORT_FORMAT) throw invalidExport(file, `its ${EXPORT_META} does not describe an ocm export`);
  if (m.version !== EXPORT_VERSION) {
    throw new OcmError('OCM_E_IMPORT_INVALID', `${file}: export format version ${JSON.stringify(m.version)} is not the one this ocm reads (${EXPORT_VERSION})`, {
      hint: 'import it with the ocm version that exported it, or export again with this one',
      details: { file, version: m.version },
    });
  }
  const p = m.payload;
  if (typeof p !== 'object' || p === null || typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256) || !Number.isSafeInteger(p.bytes) || p.bytes < 0) {
    throw invalidExport(file, `its ${EXPORT_META} names no valid payload checksum`);
  }
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) throw invalidExport(file, `its ${EXPORT_META} has no valid createdAt`);
  return m as ExportMeta;
}

export interface ReadBundleOptions {
  /** Refused before a byte of it is written: the payload may not be larger. */
  maxPayloadBytes: number;
  /** Read this stream (`ocm import -`: stdin) instead of opening `file`, which then only names it in messages. */
  input?: Readable;
}

/**
 * Passes bytes on until more arrive than a bundle within the caps can hold:
 * a stream (stdin) has no size to check first, and must not run on forever.
 */
function capped(file: string, maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) {
        done(new OcmError('OCM_E_BACKUP_LIMIT', `${file}: more than ${maxBytes} bytes, larger than any export within settings.backup.maxBytes of this root`, { details: { file } }));
      } else done(null, chunk);
    },
  });
}

async function readAll(entry: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads and checks the bundle at `file`, writing its payload to `payloadPath`
 * (created exclusively, 0600). Exactly the description, then the payload,
 * both regular files within their caps, and the payload's sha256 as described;
 * anything else is OCM_E_IMPORT_INVALID. The payload itself is checked by the
 * backup verifier afterwards.
 */
export async function readBundle(file: string, payloadPath: string, options: ReadBundleOptions): Promise<ExportMeta> {
  const extract = tar.extract();
  let meta: ExportMeta | undefined;
  let payloadSeen = false;
  const source = options.input ?? createReadStream(file);
  let streamError: unknown;
  const piped = pipeline(source, capped(file, options.maxPayloadBytes + MAX_META + TAR_SLACK), extract).catch((error: unknown) => {
    streamError = error;
  });
  try {
    for await (const entry of extract as unknown as AsyncIterable<AsyncIterable<unknown> & { header: tar.Header; resume(): void }>) {
      const { name, type, size } = entry.header;
      if ((type ?? 'file') !== 'file') throw invalidExport(file, `holds ${JSON.stringify(name)} of type ${type}; an export holds two plain files`);
      if (meta === undefined) {
        if (name !== EXPORT_META) throw invalidExport(file, `starts with ${JSON.stringify(name)} instead of ${EXPORT_META}`);
        if ((size ?? 0) > MAX_META) throw invalidExport(file, `its ${EXPORT_META} is implausibly large (${size} bytes)`);
        meta = parseMeta(file, await readAll(entry));
      } else if (!payloadSeen) {
        if (name !== EXPORT_PAYLOAD) throw invalidExport(file, `holds ${JSON.stringify(name)} where ${EXPORT_PAYLOAD} belongs`);
        if ((size ?? 0) !== meta.payload.bytes) throw invalidExport(file, `its payload is ${size} bytes, but ${meta.payload.bytes} are described`);
        if (meta.payload.bytes > options.maxPayloadBytes) {
          throw new OcmError('OCM_E_BACKUP_LIMIT', `${file}: its payload of ${meta.payload.bytes} bytes exceeds settings.backup.maxBytes of this root`, { details: { file } });
        }
        await copyHashed(file, entry, payloadPath, meta.payload.sha256);
        payloadSeen = true;
      } else {
        throw invalidExport(file, `holds ${JSON.stringify(name)} after the payload; an export holds two plain files`);
      }
      entry.resume();
    }
  } catch (error) {
    source.destroy();
    extract.destroy();
    await piped;
    if (isOcmError(error)) throw error;
    throw unreadable(file, streamError ?? error);
  }
  await piped;
  if (streamError !== undefined) throw unreadable(file, streamError);
  if (meta === undefined) throw invalidExport(file, 'is empty or not a tar file');
  if (!payloadSeen) throw invalidExport(file, `holds no ${EXPORT_PAYLOAD} (truncated?)`);
  return meta;
}

function unreadable(file: string, why: unknown): OcmError {
  return isOcmError(why) ? why : invalidExport(file, `is not a readable export (truncated or damaged): ${(why as Error).message}`, why);
}

async function copyHashed(file: string, entry: AsyncIterable<unknown>, dest: string, expected: string): Promise<void> {
  const handle = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  const hash = createHash('sha256');
  try {
    for await (const chunk of entry) {
      hash.update(chunk as Buffer);
      await handle.write(chunk as Buffer);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  const actual = hash.digest('hex');
  if (actual !== expected) throw invalidExport(file, `its payload does not match its checksum (sha256 ${actual}, expected ${expected})`);
}
