// The foreground daemon prints readable lines for a person and JSON for a
// log collector: pretty on a terminal (or --log-format pretty), JSON otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { OCM_BIN, ocm } from './helpers/cli.js';
import { testRoot, type TestRoot } from './helpers/ocm-root.js';
import { freePort } from './support/docker.js';

/** Runs `ocm daemon` until its "running" line, then stops it; returns what it wrote to stderr. */
async function daemonLines(target: TestRoot, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [OCM_BIN, '--root', target.root, 'daemon', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((resolve) => child.on('exit', resolve));
  target.stopFirst(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "running" line in 60 s: ${err}`)), 60_000);
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('ocm daemon running')) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`daemon exited: ${err}`)); });
  });
  child.kill('SIGTERM');
  await exited;
  return err;
}

test('the daemon logs readable lines with --log-format pretty and JSON without a terminal', async (t) => {
  const target = await testRoot(t);
  const path = `${target.root}/ocm.yaml`;
  writeFileSync(path, readFileSync(path, 'utf8').replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${await freePort()}`));

  const pretty = await daemonLines(target, ['--log-format', 'pretty']);
  assert.match(pretty, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: ocm daemon running; status page at http:\/\/127\.0\.0\.1:\d+\/ /m);
  assert.doesNotMatch(pretty, /^\{"level"/m, 'no JSON lines');

  const plain = await daemonLines(target, []);
  const running = plain.split('\n').find((l) => l.includes('ocm daemon running'));
  assert.ok(running !== undefined);
  const record = JSON.parse(running) as { level: number; msg: string };
  assert.equal(record.level, 30);

  const bad = await ocm(['daemon', '--log-format', 'xml'], { root: target.root });
  assert.equal(bad.code, 2, 'a usage error');
  assert.match(bad.stderr, /^error: --log-format "xml" is not a format$/m);
  assert.match(bad.stderr, /^hint: use one of auto, pretty, json$/m);
});
