// What ocm keeps beside ocm.yaml, so that a manifest which lost its users by
// accident can be told from one whose users were removed through ocm:
//   ocm.yaml.bak    the manifest ocm last wrote or acted on: the last good
//                   one, for the admin to restore by hand;
//   ocm.yaml.users  the user names ocm last wrote or was told to accept. A user
//                   `ocm remove` took out is no longer listed (its tombstone),
//                   so only a loss that did not come through ocm shows.
import { rootLayout } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';

/** The names last recorded; undefined when none were (a root from before the record, or an unreadable one). */
export async function readKnownUsers(root: string): Promise<string[] | undefined> {
  const text = await readIfExists(rootLayout(root).knownUsers);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { users?: unknown };
    const users = value.users;
    if (Array.isArray(users) && users.every((u) => typeof u === 'string')) return users;
  } catch {
    // Not JSON: treated as never recorded.
  }
  return undefined;
}

export async function recordKnownUsers(root: string, names: readonly string[]): Promise<void> {
  await writeDurable(rootLayout(root).knownUsers, `${JSON.stringify({ users: names })}\n`, { mode: 0o600 });
}

/** Keep a manifest ocm wrote or acted on as ocm.yaml.bak (0600, like ocm.yaml), never through a link. */
export async function keepManifestBackup(root: string, text: string): Promise<void> {
  await writeDurable(rootLayout(root).manifestBackup, text, { mode: 0o600 });
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => b[i] === name);
}
