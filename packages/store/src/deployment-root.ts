// The deployment root on disk: the one place that reads and writes ocm.yaml,
// env files, rendered files and the audit log, always under the root lock.
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import {
  mapLimit, manifestLoss, manifestLossError, MANIFEST_FILE, OcmError, parseManifest, preloadHandlebars, renderDeployment, rootLayout, serializeManifest,
  type Manifest, type Rendered,
} from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { readIfExists } from './read-if-exists.js';
import { fileIdentity, settled } from './file-identity.js';
import { applyRendered, diffRendered, type FileChange, type StaleFile } from './apply-files.js';
import { appendAudit, type AuditEntry } from './audit-log.js';
import { rootFsError } from './fs-errors.js';
import { withRootLock } from './root-lock.js';
import { keepManifestBackup, readKnownUsers, recordKnownUsers, sameNames } from './manifest-history.js';
import { detectLocalClientAddress } from './local-client-address.js';
import { loadTemplates } from './templates.js';
import { newToken, tokenFromEnvFile } from './tokens.js';

export interface LoadedManifest { manifest: Manifest; text: string }

/**
 * The manifest this process last read or wrote, per path, with the identity
 * of the file it came from (inode, size, change times to the nanosecond). An
 * edit writes ocm.yaml once and everything after it in the same command (the
 * follow-up in Docker, nginx, the printed URL) finds the same file by one
 * stat instead of reading and parsing it again; any write by anyone else, in
 * place or by rename, changes the identity and the file is read again.
 */
const lastSeen = new Map<string, { identity: string; loaded: LoadedManifest }>();

/** A copy: callers edit what they load. */
const copyOf = (loaded: LoadedManifest): LoadedManifest => ({ manifest: structuredClone(loaded.manifest), text: loaded.text });

export class DeploymentRoot {
  constructor(readonly path: string) {}

  get manifestPath(): string {
    return `${this.path}/${MANIFEST_FILE}`;
  }

  async exists(): Promise<boolean> {
    try {
      await access(this.manifestPath, constants.R_OK);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw rootFsError(error, this.path, `read ${MANIFEST_FILE}`);
    }
  }

  async load(): Promise<LoadedManifest> {
    let text: string;
    let identity: string;
    try {
      identity = await fileIdentity(this.manifestPath);
      const seen = lastSeen.get(this.manifestPath);
      if (seen?.identity === identity) return copyOf(seen.loaded);
      text = await readFile(this.manifestPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new OcmError('OCM_E_MANIFEST_MISSING', `no ${MANIFEST_FILE} in ${this.path}`);
      }
      throw rootFsError(error, this.path, `read ${MANIFEST_FILE}`);
    }
    const loaded = { manifest: parseManifest(text, MANIFEST_FILE), text };
    // Only when the file did not change while it was read.
    if ((await fileIdentity(this.manifestPath).catch(() => undefined)) === identity && (await settled(this.manifestPath).catch(() => false))) lastSeen.set(this.manifestPath, { identity, loaded: copyOf(loaded) });
    return loaded;
  }

  get backupPath(): string {
    return rootLayout(this.path).manifestBackup;
  }

  async backupExists(): Promise<boolean> {
    return access(this.backupPath, constants.R_OK).then(() => true, () => false);
  }

  /**
   * The manifest for a command that acts on it (up, render, an edit): refused
   * when it lost its users outside ocm, unless `yes` confirms the loss.
   */
  async loadToAct(options: { yes?: boolean } = {}): Promise<LoadedManifest> {
    const loaded = await this.load();
    if (options.yes !== true) await this.assertNotLost(loaded);
    return loaded;
  }

  /**
   * Once a command acts on a manifest (after a hand edit, or a loss confirmed
   * with --yes), its users become the ones ocm knows and its text the last
   * good manifest. Call under the root lock.
   */
  async rememberUsers(manifest: Manifest): Promise<void> {
    const names = manifest.users.map((u) => u.name);
    try {
      const [known, text, kept] = await Promise.all([
        readKnownUsers(this.path), this.load().then((l) => l.text, () => undefined), readIfExists(this.backupPath),
      ]);
      if (known === undefined || !sameNames(known, names)) await recordKnownUsers(this.path, names);
      if (text !== undefined && text !== kept) await keepManifestBackup(this.path, text);
    } catch (error) {
      throw rootFsError(error, this.path, 'record the users of ocm.yaml');
    }
  }

  /**
   * Refuse a manifest that lost its users: against the users ocm recorded, or
   * `fallback` (e.g. the manifest a daemon has in force) when it recorded none.
   */
  async assertNotLost(loaded: LoadedManifest, known?: readonly string[], fallback?: readonly string[]): Promise<void> {
    const baseline = known ?? (await readKnownUsers(this.path)) ?? fallback;
    const loss = manifestLoss({ text: loaded.text, users: loaded.manifest.users.map((u) => u.name), known: baseline });
    if (loss === undefined) return;
    const backup = (await this.backupExists()) ? this.backupPath : undefined;
    throw manifestLossError(loss, { file: this.manifestPath, backup });
  }

  /** Fail early, before anything is written, when the root cannot be written. */
  async assertWritable(): Promise<void> {
    try {
      await access(this.path, constants.W_OK);
    } catch (error) {
      throw rootFsError(error, this.path, 'write');
    }
  }

  async create(): Promise<void> {
    try {
      await mkdir(this.path, { recursive: true, mode: 0o755 });
    } catch (error) {
      throw rootFsError(error, this.path, 'create the deployment root');
    }
    await this.assertWritable();
  }

  /** Run an edit under the root's exclusive lock. */
  async locked<T>(fn: () => Promise<T>, options: { requireManifest?: boolean } = {}): Promise<T> {
    if (options.requireManifest !== false && !(await this.exists())) {
      throw new OcmError('OCM_E_MANIFEST_MISSING', `no ${MANIFEST_FILE} in ${this.path}`);
    }
    await this.assertWritable();
    return withRootLock(this.path, fn);
  }

  /**
   * Write ocm.yaml, recording its users first and keeping the same text as
   * ocm.yaml.bak after: the last good manifest is the one ocm last wrote, so
   * restoring it never undoes the admin's last edit. `manifest` is a
   * validated one (from validateManifest or parseManifest): a copy of it is
   * what the next load gives, so a write is one serialisation and no parse.
   */
  async saveManifest(manifest: Manifest): Promise<void> {
    try {
      const text = serializeManifest(manifest);
      await recordKnownUsers(this.path, manifest.users.map((u) => u.name));
      lastSeen.delete(this.manifestPath);
      await writeDurable(this.manifestPath, text, { mode: 0o600, followLink: true });
      // Written by rename: a new inode, which only another writer could change.
      lastSeen.set(this.manifestPath, { identity: await fileIdentity(this.manifestPath), loaded: { manifest: structuredClone(manifest), text } });
      await keepManifestBackup(this.path, text);
    } catch (error) {
      throw rootFsError(error, this.path, `write ${MANIFEST_FILE}`);
    }
  }

  async readToken(name: string): Promise<string | undefined> {
    return tokenFromEnvFile(await readIfExists(`${this.path}/users/${name}/env`));
  }

  /** Tokens for every user: kept from their env file, new where there is none. */
  async tokens(manifest: Manifest, rotate: ReadonlySet<string> = new Set()): Promise<Map<string, string>> {
    const kept = await mapLimit(manifest.users, 16, (user) => (rotate.has(user.name) ? Promise.resolve(undefined) : this.readToken(user.name)));
    return new Map(manifest.users.map((user, i) => [user.name, kept[i] ?? newToken()]));
  }

  async render(manifest: Manifest, rotate?: ReadonlySet<string>): Promise<Rendered> {
    const templates = loadTemplates();
    const [tokens] = await Promise.all([this.tokens(manifest, rotate), preloadHandlebars(templates)]);
    return renderDeployment(manifest, { root: this.path, tokens, templates, localClientAddress: detectLocalClientAddress() });
  }

  async apply(rendered: Rendered): Promise<FileChange[]> {
    try {
      return await applyRendered(this.path, rendered);
    } catch (error) {
      if (error instanceof OcmError) throw error;
      throw rootFsError(error, this.path, 'write the rendered files');
    }
  }

  async check(rendered: Rendered): Promise<StaleFile[]> {
    return diffRendered(this.path, rendered);
  }

  async audit(entry: AuditEntry): Promise<void> {
    await appendAudit(this.path, entry).catch(() => undefined);
  }
}
