// Just enough of RFC 6455 framing to know where one frame ends, so the proxy
// can slip a close frame into a raw byte tunnel without cutting a frame in half.
import { randomBytes } from 'node:crypto';

/** Follows frame boundaries in a byte stream without buffering payloads. */
export class FrameCursor {
  #header = Buffer.alloc(14);
  #headerLength = 0;
  #headerNeeded = 2;
  #payloadLeft = 0;

  /** True between frames: the next byte starts a new frame. */
  get atBoundary(): boolean {
    return this.#headerLength === 0 && this.#payloadLeft === 0;
  }

  /**
   * Consumes bytes from `chunk` starting at `offset` and stops right after the
   * current frame ends (or at the end of the chunk). Returns the new offset.
   */
  step(chunk: Uint8Array, offset: number): number {
    let at = offset;
    while (at < chunk.length) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - at);
        this.#payloadLeft -= take;
        at += take;
        if (this.#payloadLeft === 0) return at;
        continue;
      }
      this.#header[this.#headerLength++] = chunk[at++] ?? 0;
      if (this.#headerLength === 2) this.#headerNeeded = headerSize(this.#header);
      if (this.#headerLength === this.#headerNeeded) {
        this.#payloadLeft = payloadLength(this.#header);
        this.#headerLength = 0;
        this.#headerNeeded = 2;
        if (this.#payloadLeft === 0) return at;
      }
    }
    return at;
  }

  /** Consumes a whole chunk. */
  skip(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) at = this.step(chunk, at);
  }
}

/** A close frame; frames from a client to a server must be masked. */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]).subarray(0, 125);
  const head = Buffer.from([0x88, (masked ? 0x80 : 0) | payload.length]);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([head, mask, body]);
}

function headerSize(header: Buffer): number {
  const second = header[1] ?? 0;
  const length7 = second & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + (second & 0x80 ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length7 = (header[1] ?? 0) & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
}
