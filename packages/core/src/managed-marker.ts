// The first line that makes a file ocm's: the store (files in the root) and
// the nginx applier (files in nginx's conf dir) change or delete a file only
// when it starts with it, and both ask the same question here.
export const MANAGED_MARKER = '# managed by ocm';

/** The marker alone on the first line, or followed by a description (`# managed by ocm: alice's gateway`). */
export function isManagedContent(content: string | Uint8Array): boolean {
  const text = typeof content === 'string' ? content.slice(0, MANAGED_MARKER.length + 1) : Buffer.from(content.subarray(0, MANAGED_MARKER.length + 1)).toString('utf8');
  if (!text.startsWith(MANAGED_MARKER)) return false;
  const next = text.slice(MANAGED_MARKER.length);
  return next === '' || /^[:\s]$/.test(next);
}
