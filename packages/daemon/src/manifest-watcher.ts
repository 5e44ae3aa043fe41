// Notices edits of ocm.yaml made by the CLI while the daemon runs. ocm
// writes with temp file + rename, so the root directory is watched (a watch
// on the file itself would follow the replaced inode); a 1 s poll of the
// file's identity backs fs.watch up where it misses events (network file
// systems, some containers). A manifest that does not parse, or that `vet`
// refuses (it lost its users), is logged and ignored: the previous one stays
// in force. The record of the users ocm knows is watched too, so a loss
// confirmed with `ocm up --yes` is applied without another edit.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { MANIFEST_FILE, isOcmError, parseManifest, type Manifest } from '@ocm/core';
import { KNOWN_USERS_FILE } from '@ocm/store';
import type { Logger } from 'pino';

export interface ManifestWatcherOptions {
  dir: string;
  logger: Logger;
  /** The manifest text already in force, so the first check is not a change. */
  initialText: string;
  onChange: (manifest: Manifest) => void | Promise<void>;
  /** Throws to refuse a parsed manifest before it is applied. */
  vet?: (manifest: Manifest, text: string) => Promise<void>;
  pollMs?: number;
  /** Events within this window are one change (default 30 ms). */
  debounceMs?: number;
}

export class ManifestWatcher {
  readonly #options: ManifestWatcherOptions;
  readonly #path: string;
  #text: string;
  #identity = '';
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #again = false;

  constructor(options: ManifestWatcherOptions) {
    this.#options = options;
    this.#path = `${options.dir}/${MANIFEST_FILE}`;
    this.#text = options.initialText;
  }

  start(): void {
    try {
      this.#watcher = watch(this.#options.dir, { persistent: false }, (_event, file) => {
        if (file === null || file === MANIFEST_FILE || file === KNOWN_USERS_FILE) this.#soon();
      });
      this.#watcher.on('error', (err) => this.#options.logger.warn({ err }, 'directory watch failed; polling only'));
    } catch (err) {
      this.#options.logger.warn({ err }, 'cannot watch the root directory; polling only');
    }
    this.#poll = setInterval(() => void this.check(), this.#options.pollMs ?? 1000);
    this.#poll.unref();
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    if (this.#poll !== undefined) clearInterval(this.#poll);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#watcher = this.#poll = this.#debounce = undefined;
    await this.#checking;
  }

  /** Looks at the file now; overlapping calls collapse into one more check. */
  check(): Promise<void> {
    if (this.#checking !== undefined) {
      this.#again = true;
      return this.#checking;
    }
    this.#checking = this.#checkOnce()
      .catch((err: unknown) => this.#options.logger.error({ err }, 'manifest check failed'))
      .finally(() => {
        this.#checking = undefined;
        if (this.#again) {
          this.#again = false;
          void this.check();
        }
      });
    return this.#checking;
  }

  #soon(): void {
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.check();
    }, this.#options.debounceMs ?? 30);
  }

  async #checkOnce(): Promise<void> {
    let identity: string;
    try {
      const s = await stat(this.#path);
      identity = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.#identity !== 'missing') this.#options.logger.warn({ path: this.#path }, 'ocm.yaml is missing; keeping the routes in force');
      this.#identity = 'missing';
      return;
    }
    identity += `/${await stat(`${this.#options.dir}/${KNOWN_USERS_FILE}`).then((s) => `${s.ino}:${s.mtimeMs}`, () => '-')}`;
    if (identity === this.#identity) return;
    this.#identity = identity;
    const text = await readFile(this.#path, 'utf8');
    if (text === this.#text) return;
    let manifest: Manifest;
    try {
      manifest = parseManifest(text, MANIFEST_FILE);
    } catch (err) {
      this.#options.logger.error({ err: (err as Error).message }, 'ocm.yaml changed but does not parse; keeping the previous manifest');
      return;
    }
    try {
      await this.#options.vet?.(manifest, text);
    } catch (err) {
      const hint = isOcmError(err) ? err.hint : undefined;
      this.#options.logger.error({ err: (err as Error).message, hint }, 'ocm.yaml changed but was refused; keeping the routes in force');
      return;
    }
    this.#text = text;
    this.#options.logger.info({ users: manifest.users.length }, 'ocm.yaml changed; applying');
    await this.#options.onChange(manifest);
  }
}
