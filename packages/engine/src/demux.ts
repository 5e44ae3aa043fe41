// Docker multiplexes stdout and stderr of a non-TTY container into 8-byte
// framed chunks; logs and exec output must be unframed before anyone reads them.
import { Transform } from 'node:stream';

const HEADER = 8;

export interface Demuxed {
  stdout: Buffer;
  stderr: Buffer;
  /** Both streams interleaved in arrival order. */
  combined: Buffer;
}

/** Pure: split a complete multiplexed buffer. Unframed input (TTY) is returned as stdout. */
export function demuxBuffer(buffer: Buffer): Demuxed {
  if (!looksFramed(buffer)) return { stdout: buffer, stderr: Buffer.alloc(0), combined: buffer };
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + HEADER, offset + HEADER + size);
    (buffer[offset] === 2 ? err : out).push(payload);
    all.push(payload);
    offset += HEADER + size;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), combined: Buffer.concat(all) };
}

/** A Transform that unframes a live multiplexed stream into interleaved payload bytes. */
export function createDemuxStream(): Transform {
  let pending = Buffer.alloc(0);
  let framed: boolean | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pending = Buffer.concat([pending, chunk]);
      if (framed === undefined && pending.length >= HEADER) framed = looksFramed(pending);
      if (framed === false) {
        this.push(pending);
        pending = Buffer.alloc(0);
      }
      while (framed && pending.length >= HEADER) {
        const size = pending.readUInt32BE(4);
        if (pending.length < HEADER + size) break;
        this.push(pending.subarray(HEADER, HEADER + size));
        pending = pending.subarray(HEADER + size);
      }
      done();
    },
    flush(done) {
      if (framed !== true && pending.length > 0) this.push(pending);
      done();
    },
  });
}

function looksFramed(buffer: Buffer): boolean {
  if (buffer.length < HEADER) return false;
  const kind = buffer[0] ?? 255;
  return kind <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
}

/** The last `count` non-empty lines of a log text. */
export function lastLines(text: string, count: number): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '').slice(-count);
}
