// The handlebars sources ship in the repository's templates/ folder; the
// core is handed their text so it never touches the filesystem. The bundled
// CLI carries them precompiled and never looks for the folder.
import { existsSync, readFileSync } from 'node:fs';
import { TEMPLATE_FILES, type TemplateName, type TemplateSources } from '@ocm/core';
import { PRECOMPILED_TEMPLATES } from './precompiled-templates.js';

/** From packages/store/{src,dist}/ or from a CLI bundled to dist/cli/. */
function templateDir(): URL {
  const candidates = [new URL('../../../templates/', import.meta.url), new URL('../../templates/', import.meta.url)];
  return candidates.find((dir) => existsSync(new URL(TEMPLATE_FILES.compose, dir))) ?? (candidates[0] as URL);
}

let cached: TemplateSources | undefined;

export function loadTemplates(): TemplateSources {
  if (cached !== undefined) return cached;
  if (PRECOMPILED_TEMPLATES !== undefined) return (cached = PRECOMPILED_TEMPLATES);
  const dir = templateDir();
  cached = Object.fromEntries(Object.entries(TEMPLATE_FILES).map(([name, file]) => [name, readFileSync(new URL(file, dir), 'utf8')])) as Record<TemplateName, string>;
  return cached;
}
