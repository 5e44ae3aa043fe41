// Whether a root uses ACME and for which hosts: pure, so the daemon decides
// before it loads the ACME client (which a root without ACME never needs).
import { userHost, type Manifest } from '@ocm/core';

/** ACME serves a root when it is configured and the admin brought no certificate of their own (which wins). */
export function acmeActive(settings: Manifest['settings']): boolean {
  return settings.tls.acme !== undefined && settings.tls.certificate === undefined;
}

/** The hosts certificates are ordered for: enabled users' only, never a name a client sent. */
export function acmeHosts(manifest: Manifest): string[] {
  return manifest.users.filter((u) => u.enabled).map((u) => userHost(manifest, u.name));
}
