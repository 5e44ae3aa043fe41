// Every counted call is one row written in its own transaction (WAL, synchronous
// FULL), so a crash or kill -9 keeps each call that was counted, and the
// request id as primary key means a call is never counted twice.
import Database from 'better-sqlite3';
import type { CallUsage } from '@ocm/core';

export interface CallRecord extends CallUsage {
  requestId: string;
  user: string;
  provider: string;
  model: string;
  /** Epoch milliseconds of the call's end. */
  at: number;
  /** Local day (YYYY-MM-DD in settings.timezone) the call counts towards. */
  day: string;
  costUsd: number;
}

export interface UsageRow {
  user: string;
  day: string;
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
}

export interface UsageStore {
  /** False when this request id was already recorded. */
  record(call: CallRecord): boolean;
  /** Dollars spent by these users in [from, to) (epoch ms). */
  spent(users: readonly string[], from: number, to: number): number;
  /** Per user, day, provider and model, from `sinceDay` (YYYY-MM-DD) on. */
  report(options: { user?: string; sinceDay?: string }): UsageRow[];
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS calls (
  request_id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  at INTEGER NOT NULL,
  day TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS calls_user_at ON calls (user, at);
CREATE INDEX IF NOT EXISTS calls_day ON calls (day);
`;

/** `readonly`: for reports beside a running meter; the file must exist. */
export function openUsageStore(file: string, options: { readonly?: boolean } = {}): UsageStore {
  const readonly = options.readonly === true;
  const db = new Database(file, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  }
  const insert = readonly ? undefined : db.prepare(`INSERT OR IGNORE INTO calls VALUES (@requestId, @user, @provider, @model, @at, @day,
    @inputTokens, @cacheReadTokens, @outputTokens, @reasoningTokens, @costUsd)`);
  const record = db.transaction((call: CallRecord) => insert?.run(call).changes === 1);
  return {
    record: (call) => record(call),
    spent(users, from, to) {
      if (users.length === 0) return 0;
      const marks = users.map(() => '?').join(',');
      const row = db.prepare(`SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM calls WHERE user IN (${marks}) AND at >= ? AND at < ?`)
        .get(...users, from, to) as { usd: number };
      return row.usd;
    },
    report({ user, sinceDay }) {
      const where: string[] = [];
      const args: string[] = [];
      if (user !== undefined) { where.push('user = ?'); args.push(user); }
      if (sinceDay !== undefined) { where.push('day >= ?'); args.push(sinceDay); }
      return db.prepare(`SELECT user, day, provider, model, COUNT(*) AS calls, SUM(input_tokens) AS inputTokens,
          SUM(cache_read_tokens) AS cacheReadTokens, SUM(output_tokens) AS outputTokens,
          SUM(input_tokens + cache_read_tokens + output_tokens) AS totalTokens, SUM(cost_usd) AS costUsd
        FROM calls ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
        GROUP BY user, day, provider, model ORDER BY day, user, provider, model`).all(...args) as UsageRow[];
    },
    close: () => db.close(),
  };
}
