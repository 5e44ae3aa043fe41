// Long steps say what they are doing: without a terminal, one stderr line per
// user and phase (stdout keeps the results alone); on a terminal (a pty from
// script(1)), one block of lines redrawn in place for several users at once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { ocm, OCM_BIN } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

const ESC = String.fromCharCode(27);

const inPty = (root: string, args: string[]): Promise<{ code: number; out: string }> => new Promise((resolve) => {
  const line = [process.execPath, OCM_BIN, '--root', root, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  // A terminal of a real size: script's pty takes the size of the caller's, which a test run has not.
  execFile('script', ['-qec', `stty rows 40 cols 100; ${line}`, '/dev/null'], { env: { ...process.env, OCM_ROOT: '', COLUMNS: '100', TERM: 'xterm' }, timeout: 120_000 }, (error, stdout) => {
    resolve({ code: error === null ? 0 : Number((error as { code?: unknown }).code ?? 1), out: stdout });
  });
});

test('progress: a line per user and phase in logs, a live block on a terminal', { timeout: 300_000 }, async (t) => {
  const { root } = await testRoot(t);
  for (const name of ['alice', 'bob']) assert.equal((await ocm(['add', name, '--no-start'], { root })).code, 0);

  await t.test('ocm up without a terminal: each user\'s phases on stderr, results alone on stdout', async () => {
    const r = await ocm(['up'], { root });
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['alice', 'bob']) {
      assert.match(r.stderr, new RegExp(`^${name}: creating its container$`, 'm'));
      assert.match(r.stderr, new RegExp(`^${name}: healthy \\(\\d+\\.\\ds\\)$`, 'm'));
    }
    assert.ok(!r.stderr.includes(`${ESC}[`), 'no terminal escapes in a log');
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]).sort(), ['alice', 'bob']);
  });

  await t.test('backup and restore without a terminal name their phases', async () => {
    const b = await ocm(['backup', 'alice'], { root });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /^alice: copying while the gateway runs/m);
    assert.match(b.stderr, /^alice: backed up \(\d+\.\ds\)$/m);
    const r = await ocm(['restore', 'alice', '--yes'], { root });
    assert.equal(r.code, 0, r.stderr);
    const phases = r.stderr.split('\n').filter((l) => l.startsWith('alice: ')).map((l) => l.replace(/^alice: /, '').replace(/ \(.*$|:.*$/, ''));
    assert.deepEqual(phases.filter((p, i) => phases.indexOf(p) === i).filter((p) => p !== 'waiting for health'), [
      'unpacking and verifying the archive', 'stopping the gateway', 'putting the restored state in place', 'giving the gateway a new token', 'starting the gateway',
    ]);
    assert.match(r.stdout, /^restored alice from /m);
  });

  await t.test('ocm up on a terminal: a block redrawn in place for both users, cleared before the results', async () => {
    assert.equal((await ocm(['down'], { root })).code, 0);
    const r = await inPty(root, ['up']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`${ESC}\\[(2K|\\d*A)`), 'lines are erased and redrawn');
    assert.match(r.out, /alice {2,}(creating its container|waiting for health)/);
    assert.ok(!/alice: creating its container/.test(r.out), 'no log lines on a terminal');
    assert.match(r.out, /alice\s+create: /);
  });
});
