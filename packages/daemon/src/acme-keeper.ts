// ACME in the daemon: the users' enabled hosts are handed to the certificate
// manager whenever the manifest changes (a user added or enabled gets a
// certificate with no restart); issued certificates go into the SNI table the
// embedded proxy serves; every order's outcome is logged and recorded for
// `ocm tls` and the status page.
import { OcmError, quote, userHost, type Manifest } from '@ocm/core';
import {
  createAcmeIssuer, createCertManager, createCertStore, createChallengeTable, createSniTable, writeStatusFile,
  type ChallengeTable, type HostStatus, type SniTable, type StoredCert, type WriteLock,
} from '@ocm/acme';
import type { Logger } from 'pino';
import { acmeHosts } from './acme-hosts.js';

export interface AcmeKeeper {
  readonly sni: SniTable;
  readonly challenges: ChallengeTable;
  apply(manifest: Manifest): Promise<void>;
  status(): HostStatus[];
  /** Users by name (all when empty); force orders even certificates that are not due. */
  renew(names: readonly string[], force: boolean): Promise<HostStatus[]>;
  close(): void;
}

export interface AcmeKeeperOptions {
  root: string;
  manifest: Manifest;
  logger: Logger;
  /**
   * After a newly issued certificate is on disk and in the SNI table (nginx:
   * test and reload). Not for certificates found on disk: nginx loaded those
   * on the reload that came with the confs naming them, so a start with many
   * hosts reloads nginx once, not once per host.
   */
  onCertificate?: (host: string, cert: StoredCert) => Promise<void>;
  /** Held while a certificate is written (nginx: the lock its placeholders are written under). */
  writeLock?: WriteLock;
}

export function createAcmeKeeper(options: AcmeKeeperOptions): AcmeKeeper {
  const settings = options.manifest.settings.tls.acme;
  if (settings === undefined) throw new OcmError('OCM_E_INTERNAL', 'ACME keeper without settings.tls.acme');
  const sni = createSniTable();
  const challenges = createChallengeTable();
  const store = createCertStore(options.root, options.writeLock === undefined ? {} : { writeLock: options.writeLock });
  const log = options.logger;
  let manifest = options.manifest;
  const manager = createCertManager({
    store,
    issuer: createAcmeIssuer({ email: settings.email, directory: settings.directory, ...(settings.caFile === undefined ? {} : { caFile: settings.caFile }) }, store, challenges),
    logger: { info: (obj, msg) => log.info(obj, msg), warn: (obj, msg) => log.error(obj, msg) },
    onCertificate: async (host, cert, how) => {
      await sni.load(host, cert.files);
      if (how === 'issued') await options.onCertificate?.(host, cert);
    },
    onSettled: (hosts) => writeStatusFile(options.root, hosts),
  });
  return {
    sni,
    challenges,
    async apply(next) {
      manifest = next;
      const hosts = acmeHosts(next);
      const wanted = new Set(hosts);
      for (const { host } of manager.status()) if (!wanted.has(host)) sni.delete(host);
      await manager.setHosts(hosts);
    },
    status: () => manager.status(),
    async renew(names, force) {
      const unknown = names.find((n) => !manifest.users.some((u) => u.name === n && u.enabled));
      if (unknown !== undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no enabled user named ${quote(unknown)}`);
      return manager.renew(names.map((n) => userHost(manifest, n)), force);
    },
    close: () => manager.close(),
  };
}
