// What never travels in an archive: the gateway's runtime files and what it
// rebuilds by itself, following upstream's own backup (docs/cli/backup.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimeEntryReason } from '../src/runtime-entries.js';

test('runtime entries are left out, with a reason', () => {
  for (const [path, dir] of [
    ['state/tmp', true],
    ['state/cache/control-ui-assets', true],
    ['state/sandbox/skills-workspaces', true],
    ['state/npm', true],
    ['state/tools', true],
    ['state/browser/openclaw/user-data/SingletonLock', false],
    ['state/gateway.sock', false],
    ['state/agents/main/x.pid', false],
    ['state/openclaw.json.tmp', false],
  ] as const) assert.match(runtimeEntryReason(path, dir) ?? '', /^runtime: /, path);
});

test('what the user made stays in', () => {
  for (const [path, dir] of [
    ['state/openclaw.json', false],
    ['state/state/openclaw.sqlite', false],
    ['state/state/openclaw.sqlite-wal', false],
    ['state/agents/main/sessions/s1.jsonl', false],
    ['state/cache', true],
    ['state/cache/other', true],
    ['state/tmp', false],
    ['state/workspace/npm', true],
    ['state/workspace/notes.tmp.md', false],
    ['config/tools', true],
  ] as const) assert.equal(runtimeEntryReason(path, dir), undefined, path);
});
