// The one writer, on a real filesystem: exact mode whatever the umask, a link
// at the path replaced (never written through) unless the caller follows
// links on purpose, an existing file's owner kept when following, and no
// temp file left behind when the write fails.
import assert from 'node:assert/strict';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDurable } from '@ocm/fs';

function dir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'ocm-fs-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('writes whole files with the exact mode, whatever the umask', async (t) => {
  const d = dir(t);
  const old = process.umask(0o077);
  try {
    await writeDurable(join(d, 'a.conf'), 'one\n', { mode: 0o644 });
  } finally {
    process.umask(old);
  }
  assert.equal(readFileSync(join(d, 'a.conf'), 'utf8'), 'one\n');
  assert.equal(statSync(join(d, 'a.conf')).mode & 0o777, 0o644);
  await writeDurable(join(d, 'a.conf'), Buffer.from('two\n'), { mode: 0o600 });
  assert.equal(readFileSync(join(d, 'a.conf'), 'utf8'), 'two\n');
  assert.equal(statSync(join(d, 'a.conf')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(d), ['a.conf'], 'no temp file left');
});

test('a link at the path is replaced, and its target untouched, unless links are followed on purpose', async (t) => {
  const d = dir(t);
  const victim = join(d, 'victim');
  writeFileSync(victim, 'host file\n');
  symlinkSync(victim, join(d, 'planted'));
  await writeDurable(join(d, 'planted'), 'ours\n', { mode: 0o600 });
  assert.equal(readFileSync(victim, 'utf8'), 'host file\n');
  assert.equal(lstatSync(join(d, 'planted')).isSymbolicLink(), false);

  // An admin's ocm.yaml linked from a repository: written where it points, the link stays.
  mkdirSync(join(d, 'repo'));
  writeFileSync(join(d, 'repo', 'ocm.yaml'), 'old\n');
  symlinkSync(join(d, 'repo', 'ocm.yaml'), join(d, 'ocm.yaml'));
  await writeDurable(join(d, 'ocm.yaml'), 'new\n', { mode: 0o600, followLink: true });
  assert.equal(readlinkSync(join(d, 'ocm.yaml')), join(d, 'repo', 'ocm.yaml'));
  assert.equal(readFileSync(join(d, 'repo', 'ocm.yaml'), 'utf8'), 'new\n');
  // A link to a file not there yet is followed too.
  symlinkSync(join(d, 'repo', 'later.yaml'), join(d, 'later.yaml'));
  await writeDurable(join(d, 'later.yaml'), 'x\n', { mode: 0o600, followLink: true });
  assert.equal(readFileSync(join(d, 'repo', 'later.yaml'), 'utf8'), 'x\n');
});

test('following, an existing file keeps its owner; a failed write leaves nothing', { skip: process.getuid?.() === 0 ? false : 'needs root to give files away' }, async (t) => {
  const d = dir(t);
  writeFileSync(join(d, 'ocm.yaml'), 'admin\n');
  chownSync(join(d, 'ocm.yaml'), 1234, 1234);
  await writeDurable(join(d, 'ocm.yaml'), 'rewritten\n', { mode: 0o600, followLink: true });
  assert.deepEqual([statSync(join(d, 'ocm.yaml')).uid, statSync(join(d, 'ocm.yaml')).gid], [1234, 1234]);
  // Not following (a place a tenant could reach): the writer's own file.
  await writeDurable(join(d, 'ocm.yaml'), 'root\n', { mode: 0o600 });
  assert.equal(statSync(join(d, 'ocm.yaml')).uid, 0);
  // The target is a directory: the rename fails, the temp file goes.
  mkdirSync(join(d, 'adir'));
  writeFileSync(join(d, 'adir', 'x'), '');
  await assert.rejects(writeDurable(join(d, 'adir'), 'x', { mode: 0o600 }));
  assert.deepEqual(readdirSync(d).sort(), ['adir', 'ocm.yaml']);
});
