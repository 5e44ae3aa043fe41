// A user's port is chosen once, stored in the manifest and never changed or
// handed to anyone else while that user exists.
import { OcmError } from './errors.js';
import type { Manifest } from './manifest-schema.js';

export function allocatePort(manifest: Manifest): number {
  const used = new Set(manifest.users.map((u) => u.port));
  const { base, max } = manifest.settings.ports;
  for (let port = base; port <= max; port++) {
    if (!used.has(port)) return port;
  }
  throw new OcmError('OCM_E_PORTS_EXHAUSTED', `all ports ${base}-${max} are taken by ${manifest.users.length} users`);
}
