// SIGTERM drains: the daemon stops accepting, lets a request that is still
// sending its body finish, closes an open WebSocket with 1001, and exits 0
// on its own (no timers, watches or sockets left holding the process).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { DaemonAddresses } from '@ocm/daemon';
import { httpJson } from '../../../test/support/wait.js';
import { cli, makeRoot } from './support/root.js';
import { openSocket } from './support/ws.js';

const CHILD = fileURLToPath(new URL('./support/daemon-child.ts', import.meta.url));

test('SIGTERM: in-flight requests finish, WebSockets get 1001, the process exits 0', { timeout: 90_000 }, async (t) => {
  const { root, proxyPort } = await makeRoot(t);
  await cli(root, 'add', 'alice');
  const child = spawn(process.execPath, ['--conditions=ocm-source', '--import', 'tsx', CHILD, root], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const addresses = await new Promise<DaemonAddresses>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${stderr}`)), 30_000);
    child.stdout.on('data', () => {
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as DaemonAddresses);
      }
    });
    void exited.then(([code]) => reject(new Error(`daemon exited ${code} before it was up:\n${stderr}`)));
  });
  assert.equal(addresses.proxy?.port, proxyPort);
  const host = `alice.localhost:${proxyPort}`;
  assert.equal((await httpJson(`http://127.0.0.1:${proxyPort}/healthz`, { headers: { host } })).status, 200);

  const ws = await openSocket(proxyPort, host);
  assert.equal(await ws.echo('before'), 'before');
  // A request whose body is still on its way when the signal arrives.
  const upload = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/api/echo', headers: { host, 'content-type': 'text/plain', 'content-length': '10' } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    upload.on('error', reject);
  });
  upload.write('hello');
  await new Promise((r) => setTimeout(r, 200));

  const signalled = Date.now();
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(httpJson(`http://127.0.0.1:${proxyPort}/healthz`, { headers: { host }, timeoutMs: 1000 }), 'no new connections while draining');
  upload.end('world');
  assert.deepEqual(await answered, { status: 200, body: 'helloworld' });

  const closed = await ws.closed;
  assert.equal(closed.code, 1001);
  const [code, signal] = await exited;
  t.diagnostic(`exited ${Date.now() - signalled} ms after SIGTERM`);
  assert.equal(signal, null);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /stopping: draining connections/);
  assert.match(stderr, /ocm daemon stopped/);
});
