// Each rotated user's meter key version (core's meterKey): one JSON object of
// name -> random version in the root, 0600 beside meter.secret, written only
// under the root lock. The daemon's meter reads it on every call through a
// reader that re-reads only when the file changed.
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { OcmError, nameProblem, quote, rootLayout, type MeterKeyVersions } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { fileIdentity, settled } from './file-identity.js';
import { readIfExists } from './read-if-exists.js';

const VERSION = /^[A-Za-z0-9_-]{16,64}$/;

/** The versions in a meter.keys text; throws on anything ocm did not write. */
export function parseMeterKeys(text: string, path: string): Map<string, string> {
  const refuse = (why: string): never => {
    throw new OcmError('OCM_E_ROOT_INVALID', `${quote(path)} is not a meter key file ocm wrote: ${why}`, {
      hint: 'put back a copy of the file, or delete both meter.keys and meter.secret and run `ocm render` so every user gets a new meter key',
      details: { path },
    });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('it is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse('it is not a JSON object');
  const versions = new Map<string, string>();
  for (const [name, version] of Object.entries(parsed)) {
    if (nameProblem(name) !== undefined || typeof version !== 'string' || !VERSION.test(version)) return refuse(`the entry for ${quote(name)} is not a user name with a key version`);
    versions.set(name, version);
  }
  return versions;
}

export async function readMeterKeys(root: string): Promise<Map<string, string>> {
  const path = rootLayout(root).meterKeys;
  const text = await readIfExists(path);
  return text === undefined ? new Map() : parseMeterKeys(text, path);
}

function serialize(versions: ReadonlyMap<string, string>): string {
  return `${JSON.stringify(Object.fromEntries([...versions].sort(([a], [b]) => a.localeCompare(b))), null, 2)}\n`;
}

/**
 * Give `name` a new key version; call under the root lock. The returned undo
 * puts the file back as it was (or removes it, if there was none).
 */
export async function rotateMeterKey(root: string, name: string): Promise<{ undo(): Promise<void> }> {
  const path = rootLayout(root).meterKeys;
  const text = await readIfExists(path);
  const before = text === undefined ? new Map<string, string>() : parseMeterKeys(text, path);
  const next = new Map(before).set(name, randomBytes(18).toString('base64url'));
  await writeDurable(path, serialize(next), { mode: 0o600, followLink: true });
  return { undo: () => (text === undefined ? rm(path, { force: true }) : writeDurable(path, text, { mode: 0o600, followLink: true })) };
}

/**
 * The versions as the file holds them now, read again only when its identity
 * moved (one stat per meter call), and always while it is too fresh for its
 * times to tell two writes apart. A file that stops parsing keeps the last
 * good versions and reports the error once.
 */
export class MeterKeysReader {
  private seen = '';
  private reported = '';
  private versions: MeterKeyVersions = new Map();

  constructor(private readonly root: string, private readonly onError: (error: Error) => void = () => undefined) {}

  async current(): Promise<MeterKeyVersions> {
    const path = rootLayout(this.root).meterKeys;
    const identity = await fileIdentity(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 'absent';
      throw error;
    });
    if (identity === this.seen) return this.versions;
    try {
      this.versions = identity === 'absent' ? new Map() : await readMeterKeys(this.root);
    } catch (error) {
      if (identity !== this.reported) this.onError(error as Error);
      this.reported = identity;
    }
    this.seen = identity === 'absent' || (await settled(path).catch(() => false)) ? identity : '';
    return this.versions;
  }
}
