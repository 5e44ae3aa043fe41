#!/usr/bin/env node
// Bundle the CLI's start-up path (commander, zod, js-yaml and ocm's own
// packages) into a few ESM files: node's ESM loader costs about a millisecond
// per module and zod alone is ~100 modules, which put `ocm list` over 200 ms.
// Heavy dependencies are still loaded only when a command needs them
// (dynamic imports become separate chunks).
//
// The daemon's dependencies (fastify, undici, ajv, pino, ws, ...) are bundled
// too: loaded from node_modules they were ~450 CommonJS modules, and each one
// costs the long-running daemon a module record, a wrapper, resolution caches
// and its comments kept as source text. Bundled, the daemon's idle anonymous
// memory fell from ~34 MB to ~28 MB (BENCHMARKS.md, daemon memory).
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

const external = [
  // A test and tooling dependency, never part of the CLI.
  'playwright-core',
  // Optional native add-ons that ws and pino look for with a guarded require.
  'bufferutil', 'utf-8-validate',
  // pino starts these in a worker thread by file name (transports); ocm uses none.
  'thread-stream', 'pino-pretty',
  // A native add-on: its binding is found next to its own package files.
  'better-sqlite3',
];

// The templates go into the bundle precompiled: the store's
// precompiled-templates module is replaced by their text and handlebars'
// precompiled form, made with the options core compiles them with. The CLI
// then loads only handlebars' runtime and compiles nothing at start-up
// (~25 ms of a no-op `ocm up`, ~50 ms of `ocm add`), and the compiler with
// the source-map library it would feed every template through is not in
// the bundle at all.
const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/]store[\\/]src[\\/]precompiled-templates\.ts$/ }, async () => {
      const { TEMPLATE_FILES, TEMPLATE_OPTIONS } = await import('../packages/core/dist/index.js');
      const { default: Handlebars } = await import('handlebars');
      const text = Object.fromEntries(Object.entries(TEMPLATE_FILES).map(([key, file]) => [key, readFileSync(new URL(`../templates/${file}`, import.meta.url), 'utf8')]));
      const entries = (f) => Object.keys(TEMPLATE_FILES).map((key) => `${key}: ${f(key)}`).join(',\n');
      const precompiled = entries((key) => Handlebars.precompile(text[key], TEMPLATE_OPTIONS));
      return {
        contents: `export const PRECOMPILED_TEMPLATES = {\n${entries((key) => JSON.stringify(text[key]))},\nprecompiled: {\n${precompiled}\n},\n};\n`,
        loader: 'js',
        watchFiles: Object.values(TEMPLATE_FILES).map((file) => new URL(`../templates/${file}`, import.meta.url).pathname),
      };
    });
  },
};

// dockerode is bundled so that three of its requires can be deferred.
// docker-modem loads ssh2 (with its WebAssembly poly1305 and native crypto
// addons) for ssh:// Docker hosts, and dockerode loads @grpc/grpc-js and
// protobufjs for BuildKit sessions; ocm talks to a local socket and never
// builds, yet the two cost the daemon about 25 MB of resident memory. Each is
// replaced by a shim that requires the real module from node_modules the
// first time it is used, so an ssh:// DOCKER_HOST still works.
const LAZY = [
  { importer: /docker-modem[\\/]lib[\\/]ssh\.js$/, path: 'ssh2', shim: "exports.Client = function Client(...args) { const { Client } = require('ssh2'); return new Client(...args); };" },
  { importer: /dockerode[\\/]lib[\\/]docker\.js$/, path: './session', shim: "module.exports = function withSession(...args) { return require('dockerode/lib/session.js')(...args); };" },
  // BuildKit progress decoding (protobufjs, ~50 modules): only an image pull
  // goes through followProgress, yet parsing its code cost every Docker
  // command's start-up ~10 ms.
  { importer: /dockerode[\\/]lib[\\/]docker\.js$/, path: './buildkit', shim: "exports.followProgress = function followProgress(...args) { return require('dockerode/lib/buildkit.js').followProgress(...args); };" },
];
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    b.onResolve({ filter: /^(ssh2|\.\/session|\.\/buildkit)$/ }, (args) => {
      const hit = LAZY.find((l) => l.path === args.path && l.importer.test(args.importer));
      return hit === undefined ? undefined : { path: hit.path, namespace: 'ocm-lazy' };
    });
    // Inside a shim the require is left to node at run time.
    b.onResolve({ filter: /.*/, namespace: 'ocm-lazy' }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'ocm-lazy' }, (args) => ({ contents: LAZY.find((l) => l.path === args.path).shim, loader: 'js' }));
  },
};

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
  plugins: [lazyRequires, precompiledTemplates],
  conditions: ['ocm-source'],
  // Bundled CommonJS (commander) calls require for node builtins.
  banner: { js: "import { createRequire as __ocmCreateRequire } from 'node:module'; const require = __ocmCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  // Comments and white space go: less source for node to read and keep in
  // memory, and no stray non-ASCII comment (js-yaml has some) turning a whole
  // chunk into a two-byte string on the heap. Names stay readable.
  minifyWhitespace: true,
  // License notices are the comments esbuild keeps; undici's has a non-ASCII
  // name in it. They go to a .LEGAL.txt beside each chunk instead.
  legalComments: 'external',
  logLevel: 'warning',
});

// V8 keeps a module's source as a one-byte string only if every character
// is ASCII; a single other one doubles the string. It happened twice (a
// js-yaml comment, then a license notice and the status page's own dots),
// and the daemon's 2 MB chunk cost 4.3 MB of heap; so it fails the build.
const outDir = new URL('../dist/cli/', import.meta.url);
for (const name of readdirSync(outDir).filter((f) => f.endsWith('.mjs'))) {
  const text = readFileSync(new URL(name, outDir), 'utf8');
  // eslint-disable-next-line no-control-regex -- the range of all ASCII characters starts at NUL
  const at = text.search(/[^\x00-\x7f]/);
  if (at !== -1) {
    throw new Error(`dist/cli/${name} has a non-ASCII character at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}; escape it in the source (\\u....) so the chunk stays one-byte`);
  }
}
