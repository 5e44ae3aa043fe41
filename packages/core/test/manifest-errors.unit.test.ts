// Malformed manifests -> the exact one-line error a user sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { OcmError, parseManifest } from '@ocm/core';

const dir = new URL('../../../test/fixtures/manifests/', import.meta.url);

for (const name of readdirSync(dir)) {
  test(`manifest fixture ${name} gives its exact error`, () => {
    const text = readFileSync(new URL(`${name}/ocm.yaml`, dir), 'utf8');
    const expected = readFileSync(new URL(`${name}/expected-error.txt`, dir), 'utf8').trim();
    assert.throws(() => parseManifest(text), (error: unknown) => {
      assert.ok(error instanceof OcmError, 'an OcmError');
      assert.equal(error.message, expected);
      assert.ok(!error.message.includes('\n'), 'one line');
      assert.ok(error.hint.length > 0, 'has a hint');
      return true;
    });
  });
}

test('an empty manifest is valid and fully defaulted', () => {
  const m = parseManifest('');
  assert.equal(m.settings.domain, 'localhost');
  assert.deepEqual(m.settings.limits, { cpus: 2, memory: '2g', pids: 512 });
  assert.deepEqual(m.users, []);
});

test('a manifest over 1 MiB is refused before parsing', () => {
  assert.throws(() => parseManifest(`# ${'x'.repeat(1024 * 1024)}\n`), /more than the 1048576 a manifest may be/);
});

test("a new user's port never lands on ocm's own listeners", async () => {
  const { allocatePort } = await import('@ocm/core');
  const m = parseManifest('settings:\n  ports:\n    base: 8079\n    max: 8082\n  admin:\n    listen: 127.0.0.1:8081\nusers:\n  - name: alice\n    port: 8079\n');
  assert.equal(allocatePort(m), 8082);
});
