// audit.log: one JSON line per state-changing operation. Never secrets: the
// callers pass names and field names, not values.
import { appendFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { rootLayout } from '@ocm/core';

export interface AuditEntry {
  action: string;
  target?: string;
  details?: Record<string, unknown>;
  actor?: string;
}

export function defaultActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export async function appendAudit(root: string, entry: AuditEntry, now: Date = new Date()): Promise<void> {
  const line = JSON.stringify({ time: now.toISOString(), actor: entry.actor ?? defaultActor(), action: entry.action, target: entry.target, ...(entry.details === undefined ? {} : { details: entry.details }) });
  await appendFile(rootLayout(root).audit, `${line}\n`, { mode: 0o600 });
}
