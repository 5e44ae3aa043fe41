// Where everything lives under a deployment root: the one place its paths are
// built, so a reader (or a new capability) finds the tree in one file. Pure:
// strings in, strings out.
import { MANIFEST_FILE } from './manifest.js';

/** The lock a backup or a restore of one user holds, in that user's backups directory. */
export const BACKUP_LOCK = '.backup.lock';

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
  compose: string;
  audit: string;
  users: string;
  backups: string;
  /** The rendered nginx server blocks (settings.proxy.nginx.confDir when set). */
  nginx: string;
  user(name: string): UserPaths;
}

export function rootLayout(root: string, options: { nginxConfDir?: string | undefined } = {}): RootLayout {
  return {
    root,
    manifest: `${root}/${MANIFEST_FILE}`,
    compose: `${root}/docker-compose.yml`,
    audit: `${root}/audit.log`,
    users: `${root}/users`,
    backups: `${root}/backups`,
    nginx: options.nginxConfDir ?? `${root}/nginx`,
    user: (name) => {
      const dir = `${root}/users/${name}`;
      return { dir, env: `${dir}/env`, state: `${dir}/state`, config: `${dir}/config`, backups: `${root}/backups/${name}` };
    },
  };
}
