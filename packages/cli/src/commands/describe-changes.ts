import type { FileChange } from '@ocm/store';

export function describeChanges(changes: FileChange[]): string {
  if (changes.length === 0) return 'files: up to date';
  return changes.map((c) => (c.change === 'skipped' ? `warning: ${c.path} ${c.reason ?? ''}; left as it is, ocm's keys not merged` : `${c.change.padEnd(7)} ${c.path}`)).join('\n');
}
