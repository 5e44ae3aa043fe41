import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createEmbeddedProxy, StaticRouteTable, type EmbeddedProxy } from '@ocm/proxy';
import { DOWNLOAD_CHUNK, patternChunk, startFakeGateway, type FakeGateway } from './fake-gateway.js';

const MB = 1024 * 1024;
const TOTAL_MB = 20;

describe('embedded proxy streaming', () => {
  let alice: FakeGateway;
  let proxy: EmbeddedProxy;
  let port: number;

  before(async () => {
    alice = await startFakeGateway('alice');
    const routes = new StaticRouteTable([['alice.localhost', { user: 'alice', port: alice.port, upstreamHost: '127.0.0.1', state: 'up' }]]);
    proxy = await createEmbeddedProxy({ routes });
    ({ port } = await proxy.listen({ port: 0 }));
  });

  after(async () => {
    await proxy.close();
    await alice.close();
  });

  it('streams a 20 MB download: the first megabyte arrives before the gateway sends the rest', async () => {
    const req = request({ host: '127.0.0.1', port, path: `/download?mb=${TOTAL_MB}`, headers: { host: 'alice.localhost' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.statusCode, 200);
    const hash = createHash('sha256');
    let received = 0;
    let released = false;
    const guard = setTimeout(() => res.destroy(new Error('first megabyte never arrived: the proxy buffers responses')), 10_000);
    for await (const chunk of res) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
      if (!released && received >= DOWNLOAD_CHUNK) {
        released = true;
        clearTimeout(guard);
        alice.releaseDownload();
      }
    }
    assert.equal(received, TOTAL_MB * MB);
    assert.equal(hash.digest('hex'), expectedHash(TOTAL_MB));
  });

  it('streams a 20 MB chunked upload: the gateway sees bytes before the client has sent them all', async () => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/upload',
      headers: { host: 'alice.localhost', 'content-type': 'application/octet-stream' },
    });
    const answer = once(req, 'response') as Promise<[IncomingMessage]>;
    req.write(patternChunk(0, MB));
    const deadline = Date.now() + 10_000;
    while (alice.uploadedBytes < 256 * 1024) {
      assert.ok(Date.now() < deadline, 'the gateway saw nothing of the first megabyte: the proxy buffers requests');
      await sleep(10);
    }
    for (let offset = MB; offset < TOTAL_MB * MB; offset += MB) {
      if (!req.write(patternChunk(offset, MB))) await once(req, 'drain');
    }
    req.end();
    const [res] = await answer;
    const body = JSON.parse(await text(res)) as { who: string; bytes: number; sha256: string };
    assert.equal(res.statusCode, 200);
    assert.equal(body.who, 'alice');
    assert.equal(body.bytes, TOTAL_MB * MB);
    assert.equal(body.sha256, expectedHash(TOTAL_MB));
  });

  it('forwards JSON bodies unparsed and handles Expect: 100-continue', async () => {
    const payload = Buffer.from(JSON.stringify({ big: 'x'.repeat(2 * MB) }));
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/upload',
      headers: {
        host: 'alice.localhost',
        'content-type': 'application/json',
        'content-length': payload.length,
        expect: '100-continue',
      },
    });
    req.on('continue', () => req.end(payload));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const body = JSON.parse(await text(res)) as { bytes: number; sha256: string; headers: Record<string, string> };
    assert.equal(res.statusCode, 200);
    assert.equal(body.bytes, payload.length);
    assert.equal(body.sha256, createHash('sha256').update(payload).digest('hex'));
    assert.equal(body.headers.expect, undefined);
  });
});

function expectedHash(megabytes: number): string {
  const hash = createHash('sha256');
  for (let offset = 0; offset < megabytes * MB; offset += MB) hash.update(patternChunk(offset, MB));
  return hash.digest('hex');
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
