// The self-signed placeholder nginx loads until a host's certificate is
// issued: made only where no certificate exists, 0600, never mistaken for a
// certificate (the store reads it as none, so the host is ordered).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertStore, ensurePlaceholders, hostFiles, isPlaceholder, makePlaceholder } from '@ocm/acme';
import { rootLayout } from '@ocm/core';

test('a placeholder names its host, matches its key, and is recognised as one', async () => {
  const pair = await makePlaceholder('alice.your-ai.com');
  const cert = new X509Certificate(pair.cert);
  assert.equal(cert.subjectAltName, 'DNS:alice.your-ai.com');
  assert.ok(isPlaceholder(cert.subject));
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(pair.key)));
  assert.ok(!isPlaceholder('CN=alice.your-ai.com'));
});

test('placeholders fill only missing pairs, 0600, and the store reads them as no certificate', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ocm-placeholder-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(await ensurePlaceholders(root, ['alice.your-ai.com', 'bob.your-ai.com']), ['alice.your-ai.com', 'bob.your-ai.com']);
  const alice = hostFiles(root, 'alice.your-ai.com');
  for (const file of [alice.cert, alice.key, rootLayout(root).acmePlaceholder.cert]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  const before = readFileSync(alice.cert, 'utf8');
  assert.deepEqual(await ensurePlaceholders(root, ['alice.your-ai.com']), [], 'an existing pair is kept');
  assert.equal(readFileSync(alice.cert, 'utf8'), before);
  assert.equal(await createCertStore(root).read('alice.your-ai.com'), undefined);
});

test('a certificate on disk is never replaced by a placeholder, even while its key is not there yet', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ocm-placeholder-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const alice = hostFiles(root, 'alice.your-ai.com');
  await ensurePlaceholders(root, ['alice.your-ai.com']);
  rmSync(alice.key);
  const cert = readFileSync(alice.cert, 'utf8');
  assert.deepEqual(await ensurePlaceholders(root, ['alice.your-ai.com']), []);
  assert.equal(readFileSync(alice.cert, 'utf8'), cert);
  assert.equal(existsSync(alice.key), false, 'no key is made for a certificate it does not belong to');
});
