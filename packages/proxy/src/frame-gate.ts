// A pass-through for one direction of a WebSocket tunnel that can be told to
// end the stream with a close frame at the next frame boundary.
import { Transform, type TransformCallback } from 'node:stream';
import { FrameCursor } from './ws-frames.js';

export class FrameGate extends Transform {
  readonly #cursor = new FrameCursor();
  #closeWith: Buffer | undefined;
  #closed = false;

  /** Ends this direction with `frame` once the frame in flight is complete. */
  closeAtBoundary(frame: Buffer): void {
    if (this.#closeWith !== undefined || this.#closed) return;
    this.#closeWith = frame;
    if (this.#cursor.atBoundary) this.#finish();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#closed) return callback(); // after our close frame only the peer's goodbye arrives; drop it
    if (this.#closeWith === undefined) {
      this.#cursor.skip(chunk);
      return callback(null, chunk);
    }
    const end = this.#cursor.step(chunk, 0);
    if (end > 0) this.push(chunk.subarray(0, end));
    if (this.#cursor.atBoundary) this.#finish();
    callback();
  }

  #finish(): void {
    this.#closed = true;
    if (this.#closeWith !== undefined) this.push(this.#closeWith);
    this.push(null);
  }
}
