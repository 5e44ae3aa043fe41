// A usage store written before cache writes were counted opens with the new
// column (zero for its old calls), keeps every old call and counts new ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { openUsageStore } from '@ocm/meter';

test('an older usage.db gains cache_write_tokens and keeps its calls', (t) => {
  const dir = mkdtempSync(`${tmpdir()}/ocm-usage-`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const old = new Database(`${dir}/usage.db`);
  old.exec(`CREATE TABLE calls (request_id TEXT PRIMARY KEY, user TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, at INTEGER NOT NULL,
    day TEXT NOT NULL, input_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL) STRICT`);
  old.prepare('INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run('old', 'alice', 'claude', 'claude-x', 1, '2026-12-01', 10, 2, 5, 0, 0.5);
  old.close();
  const reader = openUsageStore(`${dir}/usage.db`, { readonly: true });
  assert.equal(reader.report({})[0]?.cacheWriteTokens, 0, 'a read-only reader copes with the old table');
  reader.close();
  const store = openUsageStore(`${dir}/usage.db`);
  t.after(() => store.close());
  store.record({ requestId: 'new', user: 'alice', provider: 'claude', model: 'claude-x', at: 2, day: '2026-12-01', inputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 7, outputTokens: 5, reasoningTokens: 3, costUsd: 0.25 });
  const [row] = store.report({});
  assert.equal(row?.calls, 2);
  assert.equal(row?.cacheWriteTokens, 7);
  assert.equal(row?.reasoningTokens, 3);
  assert.equal(row?.totalTokens, 10 + 2 + 5 + 10 + 7 + 5);
  assert.equal(row?.costUsd, 0.75);
});
