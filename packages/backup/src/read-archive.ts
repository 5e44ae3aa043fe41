// Streams the entries of a .tar.gz one at a time (bounded memory); any gzip
// or tar damage surfaces as OCM_E_BACKUP_CORRUPT.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { OcmError, isOcmError } from '@ocm/core';

export type ArchiveEntry = AsyncIterable<unknown> & { header: tar.Header } & { resume(): void };

function unreadable(archive: string, error: unknown): OcmError {
  return new OcmError('OCM_E_BACKUP_CORRUPT', `${archive} is not a readable .tar.gz: ${(error as Error).message}`, {
    cause: error,
    details: { archive },
  });
}

/** Calls `visit` for each entry in order; `visit` must consume the entry's body before returning. */
export async function forEachEntry(archive: string, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const source = createReadStream(archive, { highWaterMark: 1 << 20 });
  let streamError: unknown;
  const piped = pipeline(source, createGunzip(), extract).catch((error: unknown) => {
    streamError = error;
  });
  try {
    for await (const entry of extract as unknown as AsyncIterable<ArchiveEntry>) {
      await visit(entry);
      entry.resume();
    }
  } catch (error) {
    source.destroy();
    extract.destroy();
    await piped;
    throw isOcmError(error) ? error : unreadable(archive, streamError ?? error);
  }
  await piped;
  if (streamError !== undefined) throw unreadable(archive, streamError);
}
