import type { FileChange } from '@ocm/store';

export function describeChanges(changes: FileChange[]): string {
  if (changes.length === 0) return 'files: up to date';
  return changes.map((c) => `${c.change.padEnd(7)} ${c.path}`).join('\n');
}
