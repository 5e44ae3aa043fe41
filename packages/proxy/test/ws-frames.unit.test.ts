import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { FrameGate } from '../src/frame-gate.js';
import { FrameCursor, closeFrame } from '../src/ws-frames.js';

function frame(payloadLength: number, masked: boolean, opcode = 0x2): Buffer {
  const lengthBytes =
    payloadLength < 126
      ? Buffer.from([payloadLength])
      : payloadLength < 65536
        ? Buffer.from([126, payloadLength >> 8, payloadLength & 0xff])
        : Buffer.concat([Buffer.from([127]), u64(payloadLength)]);
  lengthBytes[0] = (lengthBytes[0] ?? 0) | (masked ? 0x80 : 0);
  return Buffer.concat([Buffer.from([0x80 | opcode]), lengthBytes, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(payloadLength, 0x61)]);
}

function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

describe('FrameCursor', () => {
  const sizes = [0, 1, 125, 126, 127, 65535, 65536, 70000];
  for (const masked of [false, true]) {
    it(`finds every boundary in ${masked ? 'masked' : 'unmasked'} frames split at random points`, () => {
      const frames = sizes.map((size) => frame(size, masked));
      const stream = Buffer.concat(frames);
      const expected: number[] = [];
      let end = 0;
      for (const f of frames) expected.push((end += f.length));
      for (let round = 0; round < 50; round++) {
        const cursor = new FrameCursor();
        const seen: number[] = [];
        let position = 0;
        while (position < stream.length) {
          const size = 1 + Math.floor(Math.random() * (round < 25 ? 7 : 40_000));
          const chunk = stream.subarray(position, position + size);
          let offset = 0;
          while (offset < chunk.length) {
            offset = cursor.step(chunk, offset);
            if (cursor.atBoundary) seen.push(position + offset);
          }
          position += chunk.length;
        }
        assert.deepEqual([...new Set(seen)], expected);
        assert.ok(cursor.atBoundary);
      }
    });
  }

  it('builds close frames that carry the code, masked or not', () => {
    const plain = closeFrame(1001, 'bye', false);
    assert.deepEqual([...plain.subarray(0, 4)], [0x88, 5, 0x03, 0xe9]);
    const masked = closeFrame(1001, 'bye', true);
    assert.equal(masked[1], 0x80 | 5);
    const mask = masked.subarray(2, 6);
    const payload = Buffer.from(masked.subarray(6).map((b, i) => b ^ (mask[i % 4] ?? 0)));
    assert.equal(payload.readUInt16BE(0), 1001);
    assert.equal(payload.subarray(2).toString(), 'bye');
  });
});

describe('FrameGate', () => {
  it('lets the frame in flight finish before the close frame, then ends', async () => {
    const gate = new FrameGate();
    const out = new PassThrough();
    gate.pipe(out);
    const big = frame(100_000, false);
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    gate.write(big.subarray(0, 1_000));
    gate.closeAtBoundary(closeFrame(1001, '', false));
    gate.write(Buffer.concat([big.subarray(1_000), frame(10, false)]));
    await once(out, 'end');
    const all = Buffer.concat(chunks);
    assert.equal(all.length, big.length + 4);
    assert.ok(all.subarray(0, big.length).equals(big));
    assert.deepEqual([...all.subarray(big.length)], [0x88, 2, 0x03, 0xe9]);
  });

  it('closes at once when no frame is in flight', async () => {
    const gate = new FrameGate();
    const chunks: Buffer[] = [];
    gate.on('data', (chunk: Buffer) => chunks.push(chunk));
    gate.write(frame(3, true));
    await new Promise((resolve) => setImmediate(resolve));
    gate.closeAtBoundary(closeFrame(1001, '', false));
    await once(gate, 'end');
    assert.equal(Buffer.concat(chunks).length, frame(3, true).length + 4);
  });
});
