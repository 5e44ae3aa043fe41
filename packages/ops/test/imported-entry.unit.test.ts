// The user entry of an export is read through the manifest's user schema:
// each bad field is refused in one line that names it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importedEntry } from '../src/imported-entry.js';

const file = '/tmp/alice.ocm-export';

test('an exported entry splits into the add\'s fields and limits', () => {
  const entry = importedEntry(file, { name: 'alice', enabled: false, image: 'gw:2', cpus: 1.5, memory: '1g', pids: 256, egress: { allow: ['192.168.1.20:8123'] }, budget: { daily: 1 }, envKeys: ['OPENAI_API_KEY'], later: 'ignored' });
  assert.deepEqual(entry, {
    name: 'alice',
    fields: { enabled: false, image: 'gw:2', egress: { allow: ['192.168.1.20:8123'] }, budget: { daily: 1 } },
    limits: { cpus: 1.5, memory: '1g', pids: 256 },
    envKeys: ['OPENAI_API_KEY'],
  });
  assert.deepEqual(importedEntry(file, { name: 'bob' }), { name: 'bob', fields: { enabled: true }, limits: {}, envKeys: [] });
});

test('each bad field is refused with OCM_E_IMPORT_INVALID, one line naming it', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [[], 'entry', /the exported user's entry is not a mapping$/],
    [{}, 'name', /the exported user's name: is required$/],
    [{ name: 'Alice!' }, 'name', /the exported user's name: "Alice!"/],
    [{ name: 'alice', enabled: 'yes' }, 'enabled', /enabled: "yes" is not a boolean$/],
    [{ name: 'alice', image: 'gw 2' }, 'image', /image: "gw 2" is not an image reference/],
    [{ name: 'alice', memory: '2 gigs' }, 'memory', /memory: "2 gigs"/],
    [{ name: 'alice', cpus: '2' }, 'cpus', /cpus: "2" is not a number$/],
    [{ name: 'alice', pids: 3 }, 'pids', /pids: 3 is below the minimum 16$/],
    [{ name: 'alice', egress: { allow: ['not an address'] } }, 'egress.allow[0]', /egress\.allow\[0\]: "not an address"/],
    [{ name: 'alice', egress: { deny: [] } }, 'egress.deny', /egress\.deny: unknown key$/],
    [{ name: 'alice', budget: { daily: -1 } }, 'budget.daily', /budget\.daily: -1 is below the minimum 0$/],
    [{ name: 'alice', envKeys: ['OK', 'BAD KEY'] }, 'envKeys[1]', /envKeys\[1\]: key "BAD KEY"/],
  ];
  for (const [raw, field, message] of cases) {
    assert.throws(() => importedEntry(file, raw), (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'OCM_E_IMPORT_INVALID', JSON.stringify(raw));
      assert.ok(e.message.startsWith(`${file}: the exported user's `), e.message);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      assert.deepEqual(e.details, { file, field });
      return true;
    });
  }
});
