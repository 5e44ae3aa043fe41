// meter.keys: each rotation a new random version for one user, an undo that
// puts the file back, a reader that sees every change and keeps the last good
// versions when the file stops parsing.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OcmError } from '@ocm/core';
import { MeterKeysReader, parseMeterKeys, readMeterKeys, rotateMeterKey } from '@ocm/store';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocm-meter-keys-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a rotation gives one user a new version each time, 0600, and its undo puts the file back', async () => {
  const root = await mkdtemp(join(dir, 'rotate-'));
  assert.deepEqual(await readMeterKeys(root), new Map());
  await (await rotateMeterKey(root, 'alice')).undo();
  await assert.rejects(stat(`${root}/meter.keys`), { code: 'ENOENT' }, 'undone: no file, as before');
  await rotateMeterKey(root, 'alice');
  const first = (await readMeterKeys(root)).get('alice');
  assert.ok(first !== undefined && first.length >= 16);
  assert.equal((await stat(`${root}/meter.keys`)).mode & 0o777, 0o600);
  const text = await readFile(`${root}/meter.keys`, 'utf8');
  const second = await rotateMeterKey(root, 'alice');
  const versions = await readMeterKeys(root);
  assert.notEqual(versions.get('alice'), first);
  assert.equal(versions.size, 1);
  await second.undo();
  assert.equal(await readFile(`${root}/meter.keys`, 'utf8'), text);
  await rotateMeterKey(root, 'bob');
  assert.equal((await readMeterKeys(root)).get('alice'), first, 'bob\'s rotation leaves alice\'s version');
});

test('a meter.keys ocm did not write is refused with one line and a hint', () => {
  for (const text of ['not json', '[]', '{"alice": 3}', '{"Alice": "0123456789abcdefgh"}', '{"alice": "short"}', '{"alice": "../../0123456789abcdef"}']) {
    assert.throws(() => parseMeterKeys(text, '/r/meter.keys'), (error: unknown) => {
      assert.ok(error instanceof OcmError);
      assert.equal(error.code, 'OCM_E_ROOT_INVALID');
      assert.ok(!error.message.includes('\n'));
      assert.match(error.hint ?? '', /meter\.secret/);
      return true;
    }, text);
  }
});

test('the reader sees each write and keeps the last good versions when the file breaks', async () => {
  const root = await mkdtemp(join(dir, 'reader-'));
  const errors: string[] = [];
  const reader = new MeterKeysReader(root, (e) => errors.push(e.message));
  assert.equal((await reader.current()).size, 0);
  await rotateMeterKey(root, 'alice');
  const v1 = (await reader.current()).get('alice');
  assert.ok(v1 !== undefined);
  await rotateMeterKey(root, 'alice');
  const v2 = (await reader.current()).get('alice');
  assert.notEqual(v2, v1);
  await writeFile(`${root}/meter.keys`, '{ broken');
  assert.equal((await reader.current()).get('alice'), v2);
  assert.equal((await reader.current()).get('alice'), v2);
  assert.equal(errors.length, 1, 'one report per broken write');
  await rm(`${root}/meter.keys`);
  assert.equal((await reader.current()).size, 0, 'a removed file: no rotated users');
});
