// Hostile archives (valid checksums, hostile entries) are refused with
// OCM_E_BACKUP_UNSAFE naming the entry, and nothing is written anywhere.
import assert from 'node:assert/strict';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractBackup, verifyBackup } from '../src/index.js';
import { craftArchive, names, tempDir, type CraftedEntry } from './helpers.js';

const dir = (name: string): CraftedEntry => ({ header: { name, type: 'directory' } });
const file = (name: string, body = 'x'): CraftedEntry => ({ header: { name, type: 'file' }, body: Buffer.from(body) });
const symlink = (name: string, linkname: string): CraftedEntry => ({ header: { name, type: 'symlink', linkname } });
const hardlink = (name: string, linkname: string): CraftedEntry => ({ header: { name, type: 'link', linkname } });

const hostile: Array<[string, CraftedEntry[], string]> = [
  ['a ../ path', [dir('state'), file('state/../../evil')], 'state/../../evil'],
  ['a plain ../ path', [file('../evil')], '../evil'],
  ['an absolute path', [file('/tmp/ocm-evil-abs')], '/tmp/ocm-evil-abs'],
  ['a file through a symlink to /etc', [dir('state'), symlink('state/etc', '/etc'), file('state/etc/ocm-evil')], 'state/etc/ocm-evil'],
  ['a symlink to /etc on its own', [dir('state'), symlink('state/etc', '/etc')], 'state/etc'],
  ['a relative symlink out of the tree', [dir('state'), symlink('state/up', '../../..')], 'state/up'],
  ['a symlink escaping through another symlink', [dir('state'), dir('state/a'), symlink('state/a/b', '../..'), symlink('state/c', 'a/b/..')], 'state/c'],
  ['a hard link to /etc/passwd', [dir('state'), hardlink('state/pw', '/etc/passwd')], 'state/pw'],
  ['a hard link out by ..', [dir('state'), hardlink('state/pw', '../../../etc/passwd')], 'state/pw'],
  ['a character device', [dir('state'), { header: { name: 'state/null', type: 'character-device', devmajor: 1, devminor: 3 } }], 'state/null'],
  ['a block device', [dir('state'), { header: { name: 'state/sda', type: 'block-device', devmajor: 8, devminor: 0 } }], 'state/sda'],
  ['a fifo', [dir('state'), { header: { name: 'state/fifo', type: 'fifo' } }], 'state/fifo'],
  ['a duplicate entry replacing a checked one', [dir('state'), file('state/a'), symlink('state/a', '/etc/passwd')], 'state/a'],
  ['a symlink replacing a directory with earlier entries', [dir('state'), file('state/d/x'), symlink('state/d', '/etc')], 'state/d'],
];

for (const [label, entries, entry] of hostile) {
  test(`${label} is refused as unsafe, naming ${entry}`, async (t) => {
    const root = await tempDir(t, 'unsafe');
    const archive = join(root, 'mallory-20260101T000000Z.tar.gz');
    await craftArchive(archive, entries);
    const before = await names(root);
    const passwd = await readFile('/etc/passwd', 'utf8');
    const isUnsafe = (e: Error & { code?: string }): boolean => e.code === 'OCM_E_BACKUP_UNSAFE' && e.message.includes(JSON.stringify(entry));
    await assert.rejects(verifyBackup(archive), isUnsafe);
    await assert.rejects(extractBackup(archive, join(root, 'out')), isUnsafe);
    assert.deepEqual(await names(root), before, 'nothing left beside the destination');
    assert.equal(await readFile('/etc/passwd', 'utf8'), passwd);
    await assert.rejects(lstat('/tmp/ocm-evil-abs'));
    await assert.rejects(lstat('/etc/ocm-evil'));
  });
}

test('links that stay inside the tree are restored', async (t) => {
  const root = await tempDir(t, 'safe-links');
  const archive = join(root, 'alice-20260101T000000Z.tar.gz');
  await craftArchive(archive, [
    dir('state'),
    dir('state/a'),
    file('state/a/data', 'payload'),
    symlink('state/current', 'a/data'),
    symlink('state/a/self', '../a'),
    hardlink('state/a/data-2', 'state/a/data'),
  ]);
  const out = join(root, 'out');
  await extractBackup(archive, out);
  assert.equal(await readFile(join(out, 'state', 'current'), 'utf8'), 'payload');
  assert.equal(await readFile(join(out, 'state', 'a', 'data-2'), 'utf8'), 'payload');
  assert.equal((await lstat(join(out, 'state', 'a', 'data-2'))).ino, (await lstat(join(out, 'state', 'a', 'data'))).ino);
});
