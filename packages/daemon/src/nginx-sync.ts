// nginx mode: after each manifest change nginx is brought in line with the
// rendered server blocks. A conf dir of its own (settings.proxy.nginx.confDir)
// is written through the proxy's NginxApplier: write, `nginx -t`, reload, or
// restore every file. The root's own nginx/ (the default) already holds
// exactly the rendered files, written by ops under the root lock with every
// edit; writing it again would fight ops, so there nginx is only tested and
// reloaded, and a config nginx refuses is simply not loaded.
//
// The CLI brings nginx in line the same way after each of its edits (with or
// without a daemon), so the command that caused a refusal reports it. One
// writer at a time: both hold the root's nginx lock from the write to the
// reload, so a reload always follows the write it belongs to.
import { basename, resolve } from 'node:path';
import { rootLayout, userHost, type Manifest } from '@ocm/core';
import { acmeActive } from './acme-hosts.js';
import { NginxApplier, createNginxControl, type NginxApplyResult, type NginxControl } from '@ocm/proxy';
import { withDirLock, type DeploymentRoot } from '@ocm/store';
import type { Logger } from 'pino';

/** The lock file (in the root) held from writing nginx's files to its reload, and while a certificate is written. */
export const NGINX_LOCK = '.nginx.lock';

/** Runs fn under the root's nginx lock: one writer of nginx's confs and certificate files at a time, CLI or daemon. */
export const withNginxLock = <T>(root: string, fn: () => Promise<T>): Promise<T> =>
  withDirLock(root, NGINX_LOCK, fn, 60_000, 'another ocm process is updating nginx');

/** The real nginx as settings.proxy.nginx names it; -e stderr brings its errors back, also when not root. */
export function nginxControlFor(manifest: Manifest): NginxControl {
  const nginx = manifest.settings.proxy.nginx;
  return createNginxControl({ binary: nginx.binary, errorLogPath: 'stderr', ...(nginx.config === undefined ? {} : { configPath: nginx.config }) });
}

/** settings.proxy.nginx.confDir, or the root's own nginx/. */
export const nginxConfDir = (root: DeploymentRoot, manifest: Manifest): string => rootLayout(root.path, { nginxConfDir: manifest.settings.proxy.nginx.confDir }).nginx;

/** The rendered nginx confs by file name, as nginx's conf dir should hold them. */
export async function renderedNginxFiles(root: DeploymentRoot, manifest: Manifest): Promise<Map<string, string>> {
  const rendered = await root.render(manifest);
  return new Map(rendered.files.filter((f) => f.path.startsWith('nginx/') && f.path.endsWith('.conf')).map((f) => [basename(f.path), f.content]));
}

export interface NginxOnce { result: NginxApplyResult | undefined; fingerprint: string }

/**
 * Under the nginx lock: write the files (a conf dir of its own), then test and
 * reload when they changed or `force` (always for the root's own nginx/,
 * whose files ops already wrote). Throws nginx's refusal (OCM_E_NGINX_INVALID,
 * files put back) or OCM_E_NGINX_MISSING.
 */
export async function applyNginxOnce(root: DeploymentRoot, manifest: Manifest, control: NginxControl, applier: NginxApplier | undefined, force: (fingerprint: string) => boolean): Promise<NginxOnce> {
  return withNginxLock(root.path, async () => {
    const files = await renderedNginxFiles(root, manifest);
    // ACME: every certificate the confs name exists before nginx tests them;
    // under this lock, which the daemon's certificate writes share, a
    // placeholder never lands on a pair the CA just issued.
    if (acmeActive(manifest.settings)) await (await import('@ocm/acme')).ensurePlaceholders(root.path, manifest.users.map((u) => userHost(manifest, u.name)));
    const fingerprint = JSON.stringify([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
    const result = applier === undefined ? undefined : await applier.apply(files);
    if (!(result?.reloaded ?? false) && force(fingerprint)) {
      await control.test();
      await control.reload();
      return { result: { written: result?.written ?? [], removed: result?.removed ?? [], reloaded: true }, fingerprint };
    }
    return { result, fingerprint };
  });
}

/** A conf dir of its own gets an applier (write, test, reload or put back); the root's nginx/ is ops' to write. */
export function nginxApplierFor(root: DeploymentRoot, manifest: Manifest, control: NginxControl): NginxApplier | undefined {
  const confDir = nginxConfDir(root, manifest);
  return resolve(confDir) === resolve(root.path, 'nginx') ? undefined : new NginxApplier({ confDir, control, batchWindowMs: 0 });
}

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
    this.confDir = nginxConfDir(options.root, options.manifest);
    this.#root = options.root;
    this.#log = options.logger;
    this.#control = options.control ?? nginxControlFor(options.manifest);
    this.#applier = nginxApplierFor(options.root, options.manifest, this.#control);
  }

  /**
   * Brings nginx in line with the manifest; failures are logged and nginx
   * keeps its last good config. `reload`: test and reload even when no conf
   * changed (a certificate the confs name was replaced).
   */
  async apply(manifest: Manifest, reload = false): Promise<boolean> {
    try {
      // Also when the applier found nothing to write: nginx may have started before these files existed.
      const { result, fingerprint } = await applyNginxOnce(this.#root, manifest, this.#control, this.#applier, (f) => reload || f !== this.#applied);
      this.#applied = fingerprint;
      if (result?.reloaded === true) this.#log.info({ confDir: this.confDir, written: result.written, removed: result.removed }, 'nginx reloaded');
      return true;
    } catch (err) {
      this.#log.error({ err: (err as Error).message, confDir: this.confDir }, 'nginx was not updated; it keeps serving its previous config');
      return false;
    }
  }
}
