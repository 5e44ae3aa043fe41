#!/usr/bin/env node
// Bundle the CLI's start-up path (commander, zod, js-yaml and ocm's own
// packages) into a few ESM files: node's ESM loader costs about a millisecond
// per module and zod alone is ~100 modules, which put `ocm list` over 200 ms.
// Heavy dependencies stay external and are still loaded only when a command
// needs them (dynamic imports become separate chunks).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const external = [
  'dockerode', 'fastify', '@fastify/*', 'pino', 'pino-*', 'tar-stream', 'node-cron', 'execa', 'handlebars', 'json5',
  'proper-lockfile', 'write-file-atomic', 'ws', 'cli-progress', 'playwright-core',
];

rmSync(new URL('../dist/cli', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { main: 'packages/cli/src/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external,
  conditions: ['ocm-source'],
  // Bundled CommonJS (commander) calls require for node builtins.
  banner: { js: "import { createRequire as __ocmCreateRequire } from 'node:module'; const require = __ocmCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
