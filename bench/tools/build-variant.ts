// Builds the CLI from a copy of the working tree with proposed patches
// applied, so a proposal for code outside bench/ can be measured before
// anyone changes that code. The copy lives in bench/.variants/<name>/.
//   node --import tsx bench/tools/build-variant.ts <name> [patch.diff ...]
//   npm run bench -- --cli bench/.variants/<name>/bin/ocm add fleet-cold
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO } from '../lib/cli-build.js';
import { run } from '../lib/proc.js';

const [name, ...patches] = process.argv.slice(2);
if (name === undefined || !/^[\w-]+$/.test(name)) throw new Error('usage: build-variant.ts <name> [patch.diff ...]');
const dir = join(REPO, 'bench/.variants', name);
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'node_modules/@ocm'), { recursive: true });
const skip = new Set(['node_modules', 'dist', 'test']);
cpSync(join(REPO, 'packages'), join(dir, 'packages'), { recursive: true, filter: (src) => !skip.has(src.split('/').pop() as string) || src.endsWith('/packages') });
for (const f of ['bin', 'scripts', 'templates', 'package.json', 'tsconfig.json']) cpSync(join(REPO, f), join(dir, f), { recursive: true });
// Every dependency from the real node_modules, except the workspace packages, which point at the patched copy.
for (const entry of readdirSync(join(REPO, 'node_modules'))) {
  if (entry === '@ocm' || entry === '.bin' || entry.startsWith('.')) continue;
  symlinkSync(join(REPO, 'node_modules', entry), join(dir, 'node_modules', entry));
}
for (const pkg of readdirSync(join(dir, 'packages'))) symlinkSync(join('../../packages', pkg), join(dir, 'node_modules/@ocm', pkg));
for (const patch of patches) {
  await run('patch', ['-p1', '--forward', '-d', dir, '-i', resolve(patch)]);
  console.error(`applied ${patch}`);
}
// The bundler reads the packages' compiled output (the precompiled templates import core's dist).
await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: dir, timeoutMs: 300_000 });
await run(process.execPath, ['scripts/bundle-cli.mjs'], { cwd: dir, timeoutMs: 120_000 });
await run(process.execPath, [join(dir, 'bin/ocm'), '--help']);
console.log(join(dir, 'bin/ocm'));
