// Adding a name that an earlier `ocm remove` (without --purge) left behind:
// ocm says it reuses that state, and --fresh starts the user empty instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ocm } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';

test('re-adding a removed user says her old state is reused; --fresh deletes it first', async (t) => {
  const { root } = await testRoot(t);
  let r = await ocm(['add', 'alice', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /reused/, 'a new name has nothing to reuse');
  const marker = `${root}/users/alice/state/chat-history.json`;
  writeFileSync(marker, '{"said":"hello"}\n');

  r = await ocm(['remove', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'alice', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^note: users\/alice\/state from an earlier alice is reused \(chats, paired devices, gateway config\); the old env and limits went with `ocm remove`$/m);
  assert.match(r.stderr, /to start alice empty instead: `ocm remove alice && ocm add alice --fresh`/);
  assert.ok(existsSync(marker), 'the old state is still there');

  r = await ocm(['remove', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  r = await ocm(['add', 'alice', '--fresh'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^deleted the state an earlier alice left in users\/alice \(--fresh\)$/m);
  assert.doesNotMatch(r.stderr, /reused/);
  assert.ok(!existsSync(marker), 'the old state is gone');
  const status = await ocm(['status', '--json'], { root });
  const users = JSON.parse(status.stdout) as Array<{ name: string; health: string }>;
  assert.equal(users.find((u) => u.name === 'alice')?.health, 'healthy', 'the fresh alice runs');

  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; details?: { state?: string } });
  assert.deepEqual(audit.filter((a) => a.action === 'user.add').map((a) => a.details?.state ?? 'new'), ['new', 'reused', 'fresh']);

  // --fresh on a name with nothing kept is just an add.
  r = await ocm(['add', 'bob', '--fresh', '--no-start'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /deleted|reused/);
});
