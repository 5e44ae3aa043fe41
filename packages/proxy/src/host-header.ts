// Turns a client's Host header into the key routes are stored under, refusing
// anything that is not a plain DNS name, so odd spellings cannot pick a route.

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;

/** Lowercase host without port or trailing dot, or undefined when the header is not a valid host. */
export function parseHostHeader(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > 300) return undefined;
  const lower = value.toLowerCase();
  const colon = lower.indexOf(':');
  let name = colon === -1 ? lower : lower.slice(0, colon);
  if (colon !== -1 && !PORT.test(lower.slice(colon + 1))) return undefined;
  // A fully qualified "alice.example.com." is the same name; nginx accepts it too.
  if (name.endsWith('.')) name = name.slice(0, -1);
  return isHostName(name) ? name : undefined;
}

/** A DNS name made of letters, digits and inner hyphens, at most 253 characters. */
export function isHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}
