// A manifest that lost its users by accident (truncated to 0 bytes, emptied
// by an editor, most users deleted by a slip) must not be acted on: `ocm up`
// would remove every container and the daemon would route every name to
// "not configured". The decision is made against the users ocm itself last
// wrote (or was told to accept): a user `ocm remove` took out is no longer
// among them, so only a loss that did not come through ocm is refused.
import { OcmError } from './errors.js';

export interface ManifestLossInput {
  /** The manifest text as read. */
  text: string;
  /** The user names in that manifest. */
  users: readonly string[];
  /** The user names ocm last wrote or accepted; undefined when it never recorded any. */
  known: readonly string[] | undefined;
}

export interface ManifestLoss {
  /** The text holds nothing but blanks and comments. */
  empty: boolean;
  /** Known users missing from the manifest, in the order they were known. */
  vanished: string[];
  /** How many users were known. */
  known: number;
}

/** True when the text holds no YAML content at all: empty, whitespace, comments or bare document markers. */
export function isEmptyManifestText(text: string): boolean {
  return text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line) || /^(---|\.\.\.)\s*(#.*)?$/.test(line));
}

/**
 * The loss to refuse, or undefined. An empty text is always refused (ocm never
 * writes one); a manifest is refused when fewer than half of the known users
 * are left in it.
 */
export function manifestLoss(input: ManifestLossInput): ManifestLoss | undefined {
  const present = new Set(input.users);
  const known = input.known ?? [];
  const vanished = known.filter((name) => !present.has(name));
  const empty = isEmptyManifestText(input.text);
  if (empty) return { empty, vanished, known: known.length };
  if (vanished.length === 0 || input.users.length * 2 >= known.length) return undefined;
  return { empty, vanished, known: known.length };
}

export interface LossWording {
  /** The manifest's path as the admin should see it. */
  file: string;
  /** The last good copy beside it, when there is one. */
  backup: string | undefined;
}

/** One line naming how many users vanished, and a hint to restore or confirm. */
export function manifestLossError(loss: ManifestLoss, wording: LossWording): OcmError {
  const names = loss.vanished.length === 0 ? '' : ` (${shortList(loss.vanished)})`;
  const what = loss.empty
    ? `${wording.file} is empty${loss.known === 0 ? '' : loss.known === 1 ? `: the one user ocm last wrote is gone${names}` : `: all ${loss.known} users ocm last wrote are gone${names}`}`
    : `${wording.file} lost ${loss.vanished.length} of its ${loss.known} users since ocm last wrote it${names}`;
  const restore = wording.backup === undefined
    ? 'restore ocm.yaml from your own copy'
    : `restore the last good manifest with \`cp ${wording.backup} ${wording.file}\``;
  return new OcmError('OCM_E_MANIFEST_LOST_USERS', `${what}; refusing to act on it`, {
    hint: `${restore}, or confirm with \`ocm up --yes\` if the removal is intended`,
    details: { empty: loss.empty, vanished: loss.vanished, known: loss.known },
  });
}

/** `ocm up` removes at most one user's container unless told --yes. */
export function assertRemovalsConfirmed(removed: readonly string[], yes: boolean, wording: LossWording): void {
  if (removed.length <= 1 || yes) return;
  const names = [...removed].sort();
  const restore = wording.backup === undefined ? '' : ` (\`cp ${wording.backup} ${wording.file}\` restores the last good one)`;
  throw new OcmError('OCM_E_CONFIRM_REQUIRED', `ocm up would remove the containers of ${removed.length} users no longer in ocm.yaml (${shortList(names)})`, {
    hint: `check ocm.yaml${restore}; repeat with \`ocm up --yes\` to remove them`,
    details: { removed: names },
  });
}

function shortList(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
