// nginx mode: after each manifest change nginx is brought in line with the
// rendered server blocks. A conf dir of its own (settings.proxy.nginx.confDir)
// is written through the proxy's NginxApplier: write, `nginx -t`, reload, or
// restore every file. The root's own nginx/ (the default) already holds
// exactly the rendered files, written by ops under the root lock with every
// edit; writing it again would fight ops, so there nginx is only tested and
// reloaded, and a config nginx refuses is simply not loaded.
import { basename, resolve } from 'node:path';
import type { Manifest } from '@ocm/core';
import { NginxApplier, createNginxControl, type NginxControl } from '@ocm/proxy';
import type { DeploymentRoot } from '@ocm/store';
import type { Logger } from 'pino';

export interface NginxSyncOptions {
  root: DeploymentRoot;
  manifest: Manifest;
  logger: Logger;
  /** For tests; default: the real nginx named by settings.proxy.nginx. */
  control?: NginxControl;
}

export class NginxSync {
  readonly confDir: string;
  readonly #root: DeploymentRoot;
  readonly #log: Logger;
  readonly #control: NginxControl;
  readonly #applier: NginxApplier | undefined;
  #applied: string | undefined;

  constructor(options: NginxSyncOptions) {
    const nginx = options.manifest.settings.proxy.nginx;
    this.confDir = nginx.confDir ?? `${options.root.path}/nginx`;
    this.#root = options.root;
    this.#log = options.logger;
    // -e stderr: nginx's startup errors come back in the command's stderr, also when not root.
    this.#control = options.control ?? createNginxControl({ binary: nginx.binary, errorLogPath: 'stderr', ...(nginx.config === undefined ? {} : { configPath: nginx.config }) });
    const ownDir = resolve(this.confDir) === resolve(options.root.path, 'nginx');
    this.#applier = ownDir ? undefined : new NginxApplier({ confDir: this.confDir, control: this.#control });
  }

  /** Brings nginx in line with the manifest; failures are logged and nginx keeps its last good config. */
  async apply(manifest: Manifest): Promise<boolean> {
    const rendered = await this.#root.render(manifest);
    const files = new Map(rendered.files.filter((f) => f.path.startsWith('nginx/') && f.path.endsWith('.conf')).map((f) => [basename(f.path), f.content]));
    const fingerprint = JSON.stringify([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
    try {
      const result = this.#applier === undefined ? undefined : await this.#applier.apply(files);
      let reloaded = result?.reloaded ?? false;
      // Also when the applier found nothing to write: nginx may have started before these files existed.
      if (!reloaded && fingerprint !== this.#applied) {
        await this.#control.test();
        await this.#control.reload();
        reloaded = true;
      }
      this.#applied = fingerprint;
      if (reloaded) this.#log.info({ confDir: this.confDir, written: result?.written, removed: result?.removed }, 'nginx reloaded');
      return true;
    } catch (err) {
      this.#log.error({ err: (err as Error).message, confDir: this.confDir }, 'nginx was not updated; it keeps serving its previous config');
      return false;
    }
  }
}
