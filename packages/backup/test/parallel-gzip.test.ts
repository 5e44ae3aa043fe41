// The parallel gzip writer: its output is ordinary gzip to node's gunzip and
// to GNU gzip, byte-identical after decompression, whatever the block size,
// the chunking of the input, or an empty input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { ParallelGzip } from '@ocm/backup';

async function compress(chunks: Buffer[], options: ConstructorParameters<typeof ParallelGzip>[0]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), new ParallelGzip(options), async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

/** Text-like bytes that compress, mixed with random ones that do not. */
function sample(bytes: number): Buffer {
  const text = Buffer.from('2026-11-23T10:00:00Z gateway: request ok in 3 ms\n'.repeat(Math.ceil(bytes / 100)));
  return Buffer.concat([text.subarray(0, bytes / 2), randomBytes(bytes - bytes / 2)]);
}

test('round trips through node and GNU gzip for odd block sizes and chunkings', async () => {
  const data = sample(3_000_000);
  for (const [blockBytes, chunk, parallel] of [[1 << 20, 65_536, 2], [4096, 1000, 3], [777_777, 3_000_000, 4], [1 << 20, 1, 2]] as const) {
    const input = chunk === 1 ? [data.subarray(0, 5000), data.subarray(5000)] : Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
    const gz = await compress(input, { level: 6, blockBytes, parallel });
    assert.ok(gunzipSync(gz).equals(data), `node gunzip, block ${blockBytes}`);
    const gnu = spawnSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 });
    assert.equal(gnu.status, 0, gnu.stderr.toString());
    assert.equal(createHash('sha256').update(gnu.stdout).digest('hex'), createHash('sha256').update(data).digest('hex'), `GNU gzip, block ${blockBytes}`);
  }
});

test('an empty input is still a valid gzip file', async () => {
  const gz = await compress([], {});
  assert.ok(gz.length > 0);
  assert.equal(gunzipSync(gz).length, 0);
  assert.equal(spawnSync('gzip', ['-t'], { input: gz }).status, 0);
});

test('independent 1 MiB members cost under 1% of the size of one stream', async () => {
  const data = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `line ${i % 977} of a log that repeats itself\n`).join(''));
  const one = await compress([data], { blockBytes: data.length + 1 });
  const many = await compress([data], { blockBytes: 1 << 20 });
  assert.ok(many.length <= one.length * 1.01, `${many.length} vs ${one.length}`);
});
