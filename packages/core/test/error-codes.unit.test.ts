// Every error code is documented, and every documented code exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@ocm/core';

test('ERRORS.md documents exactly the codes in error-codes.ts', () => {
  const doc = readFileSync(new URL('../ERRORS.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(OCM_E_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  const defined = new Set(Object.keys(ERROR_CODES));
  assert.deepEqual([...defined].filter((c) => !documented.has(c)), [], 'codes missing from ERRORS.md');
  assert.deepEqual([...documented].filter((c) => !defined.has(c as string)), [], 'ERRORS.md lists unknown codes');
});
