#!/usr/bin/env node
// Runs every test file with node's own test runner. TypeScript test files run
// through tsx; the `ocm-source` condition resolves @ocm/* to their src/.
// Usage: node scripts/run-tests.mjs [--unit] [path-filter...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function find(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const entry of entries) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'fixtures') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let files = [...find('packages'), ...find('test')].sort();
// Unit tests are the pure ones; they are named *.unit.test.ts.
if (unitOnly) files = files.filter((f) => f.endsWith('.unit.test.ts'));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// What an interrupted earlier run left (test hosts, firewall chains, Docker
// objects) would fail this one; the script leaves everything alone while
// another test run is alive.
if (!unitOnly) spawnSync(process.execPath, [fileURLToPath(new URL('./test-leftovers.mjs', import.meta.url))], { stdio: 'inherit' });
const result = spawnSync(process.execPath, [
  '--conditions=ocm-source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files,
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
