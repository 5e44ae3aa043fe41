// Where ACME material lives under the deployment root: nowhere a gateway container mounts.
export interface HostFiles { cert: string; key: string }

export const acmeDir = (root: string): string => `${root}/tls/acme`;
export const accountKeyPath = (root: string): string => `${acmeDir(root)}/account.key`;

/** Hosts are validated user hosts (DNS labels), so they are safe as a directory name. */
export function hostFiles(root: string, host: string): HostFiles {
  const dir = `${acmeDir(root)}/certs/${host}`;
  return { cert: `${dir}/fullchain.pem`, key: `${dir}/key.pem` };
}
