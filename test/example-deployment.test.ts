// The committed example deployment is exactly what ocm renders today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO, renderExample } from '../scripts/example-deployment.js';

test('compose/ and nginx/ hold the current render of compose/ocm.example.yaml', () => {
  const files = renderExample();
  assert.ok(files.size >= 4);
  for (const [path, content] of files) {
    assert.equal(readFileSync(new URL(path, REPO), 'utf8'), content, `${path} is stale: run npm run render-example`);
  }
});
