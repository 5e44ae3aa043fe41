// Applies a complete set of rendered nginx files: write what changed, delete
// what is no longer wanted, `nginx -t`, and reload, or put every file back
// exactly as it was. Bursts of apply() calls share one test and reload.
import { join, relative } from 'node:path';
import { OcmError, isOcmError, quote } from '@ocm/core';
import { writeDurable } from '@ocm/fs';
import { Coalescer } from './coalescer.js';
import {
  isConfFileName,
  readConfDir,
  removeIfPresent,
  withMarker,
  type ManagedFile,
} from './managed-files.js';
import type { NginxControl } from './nginx-control.js';

export interface NginxApplierOptions {
  /** The directory ocm owns inside nginx's config (included as `<confDir>/*.conf`). */
  confDir: string;
  control: NginxControl;
  /** Calls within this window share one test and reload (default 100 ms). */
  batchWindowMs?: number;
}

export interface NginxApplyResult {
  /** File names written (new or changed). */
  written: string[];
  /** Managed file names deleted because they were no longer wanted. */
  removed: string[];
  /** False when nothing changed, so nginx was left alone. */
  reloaded: boolean;
}

export class NginxApplier {
  readonly #confDir: string;
  readonly #control: NginxControl;
  readonly #batch: Coalescer<ReadonlyMap<string, string>, NginxApplyResult>;

  constructor(options: NginxApplierOptions) {
    this.#confDir = options.confDir;
    this.#control = options.control;
    this.#batch = new Coalescer((files) => this.#applyNow(files), options.batchWindowMs ?? 100);
  }

  /**
   * Makes the conf dir's managed files exactly `files` (name -> content, e.g.
   * alice.conf). Each call is a complete desired state: when calls coalesce,
   * the latest one wins and every caller gets its result.
   */
  apply(files: ReadonlyMap<string, string>): Promise<NginxApplyResult> {
    for (const name of files.keys()) {
      if (!isConfFileName(name)) {
        return Promise.reject(
          new OcmError('OCM_E_INTERNAL', `nginx file name ${quote(name)} must look like <name>.conf`),
        );
      }
    }
    return this.#batch.submit(new Map(files));
  }

  async #applyNow(files: ReadonlyMap<string, string>): Promise<NginxApplyResult> {
    const before = await this.#read();
    for (const name of files.keys()) {
      if (before.foreign.has(name)) {
        throw new OcmError('OCM_E_NOT_OURS', `${quote(join(this.#confDir, name))} exists and was not written by ocm`, {
          hint: 'ocm only changes nginx files whose first line is "# managed by ocm"; move that file away and retry',
        });
      }
    }
    const desired = new Map([...files].map(([name, content]) => [name, withMarker(content)]));
    const written = [...desired].filter(([name, content]) => !before.managed.get(name)?.content.equals(content)).map(([name]) => name);
    const removed = [...before.managed.keys()].filter((name) => !desired.has(name));
    if (written.length === 0 && removed.length === 0) return { written, removed, reloaded: false };

    try {
      for (const name of written) {
        await writeDurable(this.#path(name), desired.get(name) ?? Buffer.alloc(0), { mode: before.managed.get(name)?.mode ?? 0o644 });
      }
      for (const name of removed) await removeIfPresent(this.#path(name));
      await this.#control.test();
      await this.#control.reload();
    } catch (err) {
      // Also after a failed reload: files nginx is not serving must not look applied to the next call.
      await this.#restore(before.managed, [...written, ...removed]);
      throw this.#explain(err);
    }
    return { written: written.sort(), removed: removed.sort(), reloaded: true };
  }

  /** Puts each touched name back to its snapshot: the old bytes and mode, or no file. */
  async #restore(snapshot: ReadonlyMap<string, ManagedFile>, touched: string[]): Promise<void> {
    for (const name of touched) {
      const old = snapshot.get(name);
      if (old === undefined) await removeIfPresent(this.#path(name));
      else await writeDurable(this.#path(name), old.content, { mode: old.mode });
    }
  }

  async #read(): Promise<Awaited<ReturnType<typeof readConfDir>>> {
    try {
      return await readConfDir(this.#confDir);
    } catch (err) {
      throw this.#explain(err);
    }
  }

  /** nginx errors name the file relative to the conf dir when it is one of ours. */
  #explain(err: unknown): unknown {
    if (isOcmError(err) && err.code === 'OCM_E_NGINX_INVALID') {
      const file = typeof err.details.file === 'string' ? err.details.file : undefined;
      const line = typeof err.details.line === 'number' ? err.details.line : undefined;
      const rejected = /^nginx rejected the config(?: in \S+)?: (.*)$/s.exec(err.message);
      if (rejected === null) {
        return new OcmError(err.code, `${err.message} (previous files restored)`, { cause: err, details: err.details, hint: err.hint });
      }
      const inside = file !== undefined && !relative(this.#confDir, file).startsWith('..');
      const where = file === undefined ? 'the config: ' : `${inside ? relative(this.#confDir, file) : file}:${line ?? '?'}: `;
      return new OcmError('OCM_E_NGINX_INVALID', `nginx rejected ${where}${rejected[1] ?? ''} (previous files restored)`, {
        cause: err,
        details: err.details,
      });
    }
    if (isOcmError(err)) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
      return new OcmError('OCM_E_ROOT_UNWRITABLE', `cannot update nginx files in ${quote(this.#confDir)} (${code})`, {
        cause: err,
      });
    }
    return err;
  }

  #path(name: string): string {
    return join(this.#confDir, name);
  }
}
