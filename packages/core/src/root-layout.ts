// Where everything lives under a deployment root: the one place its paths are
// built, so a reader (or a new capability) finds the tree in one file. Pure:
// strings in, strings out.
import { MANIFEST_FILE } from './manifest.js';

/** The lock a backup or a restore of one user holds, in that user's backups directory. */
export const BACKUP_LOCK = '.backup.lock';
/** The admin API's bearer token, 0600. */
export const ADMIN_TOKEN_FILE = 'admin.token';
/** The secret every user's meter key is derived from, 0600; never in a backup. */
export const METER_SECRET_FILE = 'meter.secret';
/** Each rotated user's meter key version, 0600: a rotation gives one user a new one; never in a backup. */
export const METER_KEYS_FILE = 'meter.keys';
// The two below are MANIFEST_FILE's neighbours, spelled out: manifest.ts
// reaches this module while it loads, before MANIFEST_FILE exists.
/** ocm.yaml as it was before the last write that changed it. */
export const MANIFEST_BACKUP_FILE = 'ocm.yaml.bak';
/** The user names of the last written ocm.yaml: a manifest that lost them is noticed. */
export const KNOWN_USERS_FILE = 'ocm.yaml.users';
/** Where a purge moves a user's tree before deleting it, 0700, root's. */
export const TRASH_DIR = '.trash';

export interface UserPaths {
  /** `users/<name>`: the tenant's own tree (state/ and config/ are written by the tenant). */
  dir: string;
  /** `users/<name>/env`: 0600, the gateway token and per-user keys. */
  env: string;
  state: string;
  config: string;
  /** `backups/<name>`: the user's archives, the backup lock and the last result. */
  backups: string;
}

export interface RootLayout {
  root: string;
  manifest: string;
  manifestBackup: string;
  knownUsers: string;
  adminToken: string;
  meterSecret: string;
  meterKeys: string;
  trash: string;
  compose: string;
  audit: string;
  users: string;
  backups: string;
  /** The rendered nginx server blocks (settings.proxy.nginx.confDir when set). */
  nginx: string;
  /** `tls/acme`: the ACME account key and certificates, 0600; no gateway mounts it. */
  acme: string;
  /** A user host's certificate chain and key, as the CA issued them (or a placeholder until then). */
  acmeHost(host: string): CertFiles;
  /** The self-signed pair nginx's catch-all HTTPS server answers unknown names with. */
  acmePlaceholder: CertFiles;
  user(name: string): UserPaths;
}

export interface CertFiles { cert: string; key: string }

export function rootLayout(root: string, options: { nginxConfDir?: string | undefined } = {}): RootLayout {
  return {
    root,
    manifest: `${root}/${MANIFEST_FILE}`,
    manifestBackup: `${root}/${MANIFEST_BACKUP_FILE}`,
    knownUsers: `${root}/${KNOWN_USERS_FILE}`,
    adminToken: `${root}/${ADMIN_TOKEN_FILE}`,
    meterSecret: `${root}/${METER_SECRET_FILE}`,
    meterKeys: `${root}/${METER_KEYS_FILE}`,
    trash: `${root}/${TRASH_DIR}`,
    compose: `${root}/docker-compose.yml`,
    audit: `${root}/audit.log`,
    users: `${root}/users`,
    backups: `${root}/backups`,
    nginx: options.nginxConfDir ?? `${root}/nginx`,
    acme: `${root}/tls/acme`,
    // Hosts are validated user hosts (DNS labels), so they are safe as a directory name.
    acmeHost: (host) => ({ cert: `${root}/tls/acme/certs/${host}/fullchain.pem`, key: `${root}/tls/acme/certs/${host}/key.pem` }),
    acmePlaceholder: { cert: `${root}/tls/acme/placeholder/fullchain.pem`, key: `${root}/tls/acme/placeholder/key.pem` },
    user: (name) => {
      const dir = `${root}/users/${name}`;
      return { dir, env: `${dir}/env`, state: `${dir}/state`, config: `${dir}/config`, backups: `${root}/backups/${name}` };
    },
  };
}
