// The example deployment under compose/ and nginx/: rendered from
// compose/ocm.example.yaml as it would be for root /opt/ocm.
import { readFileSync } from 'node:fs';
import { parseManifest, renderDeployment, type RenderedFile } from '@ocm/core';
import { loadTemplates } from '@ocm/store';

export const REPO = new URL('../', import.meta.url);

/** Files of the example, keyed by their path in the repository. */
export function renderExample(): Map<string, string> {
  const manifest = parseManifest(readFileSync(new URL('compose/ocm.example.yaml', REPO), 'utf8'));
  // Placeholder tokens: env files are not part of the example, only their hash is.
  const tokens = new Map(manifest.users.map((u) => [u.name, 'example-token']));
  const { files } = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates: loadTemplates(), localClientAddress: '192.0.2.10' });
  const out = new Map<string, string>();
  const place = (f: RenderedFile): string | undefined =>
    f.path === 'docker-compose.yml' ? 'compose/docker-compose.yml' : f.path.startsWith('nginx/') ? f.path : undefined;
  for (const file of files) {
    const target = place(file);
    if (target !== undefined) out.set(target, file.content);
  }
  return out;
}
