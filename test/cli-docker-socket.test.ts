// A user who may not use Docker's socket is told so, not told to start Docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCM_BIN } from './helpers/cli.js';

test('a user without access to the Docker socket gets a permission hint, not "start Docker"', { skip: process.getuid?.() === 0 ? false : 'needs root to run ocm as another user' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-sock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  const asNobody = (args: string[]) => spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, OCM_BIN, '--root', `${dir}/root`, ...args], { encoding: 'utf8' });
  const init = asNobody(['init']);
  assert.equal(init.status, 0, init.stderr);
  const status = asNobody(['status']);
  assert.equal(status.status, 1, status.stdout);
  assert.match(status.stderr, /^error: cannot reach Docker while trying to ping the daemon: permission denied on \S+$/m);
  assert.match(status.stderr, /^hint: run ocm as root, or add this user to the docker group/m);
  assert.doesNotMatch(status.stderr, /start Docker/);
});
