// The handlebars sources ship in the repository's templates/ folder; the
// core is handed their text so it never touches the filesystem.
import { existsSync, readFileSync } from 'node:fs';
import type { TemplateSources } from '@ocm/core';
import { PRECOMPILED_TEMPLATES } from './precompiled-templates.js';

// From packages/store/{src,dist}/ or from the bundled CLI in dist/cli/.
const TEMPLATE_DIR = [new URL('../../../templates/', import.meta.url), new URL('../../templates/', import.meta.url)]
  .find((dir) => existsSync(new URL('docker-compose.yml.hbs', dir))) ?? new URL('../../../templates/', import.meta.url);

let cached: TemplateSources | undefined;

export function loadTemplates(): TemplateSources {
  if (cached !== undefined) return cached;
  if (PRECOMPILED_TEMPLATES !== undefined) return (cached = PRECOMPILED_TEMPLATES);
  const read = (name: string): string => readFileSync(new URL(name, TEMPLATE_DIR), 'utf8');
  cached = {
    compose: read('docker-compose.yml.hbs'),
    composeService: read('compose-service.yml.hbs'),
    nginxServer: read('nginx-server.conf.hbs'),
    nginxShared: read('nginx-shared.conf.hbs'),
    env: read('env.hbs'),
  };
  return cached;
}
