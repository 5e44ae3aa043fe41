// nginx mode writes certificate files from two places: the CLI's and the
// daemon's placeholders (so nginx -t passes before the CA answers) and the
// daemon's certificate store (the CA's pair). Both write under the root's
// nginx lock, and a placeholder goes only where no certificate is, so the
// CA's pair is never overwritten or split from its key. Real files, real lock.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCertStore, ensurePlaceholders, hostFiles, isPlaceholder } from '@ocm/acme';
import { withNginxLock } from '../src/nginx-sync.js';

function issuedPair(dir: string): { cert: string; key: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '90',
    '-subj', '/CN=issued', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/** The pair on disk: is the certificate the placeholder, and does the key belong to it. */
function onDisk(root: string, host: string): { cert: string; placeholder: boolean; matches: boolean } {
  const files = hostFiles(root, host);
  const cert = readFileSync(files.cert, 'utf8');
  const x509 = new X509Certificate(cert);
  return { cert, placeholder: isPlaceholder(x509.subject), matches: x509.checkPrivateKey(createPrivateKey(readFileSync(files.key, 'utf8'))) };
}

test('the daemon\'s certificate writes wait for the nginx lock, and a placeholder never replaces the CA\'s pair', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ocm-cert-lock-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const issued = issuedPair(root);
  const store = createCertStore(root, { writeLock: (fn) => withNginxLock(root, fn) });

  // The CLI holds the lock and writes the placeholder; the CA's pair, issued meanwhile, lands after it.
  let write: Promise<unknown> = Promise.resolve();
  await withNginxLock(root, async () => {
    write = store.write('alice.your-ai.com', issued);
    assert.deepEqual(await ensurePlaceholders(root, ['alice.your-ai.com']), ['alice.your-ai.com']);
    assert.equal(onDisk(root, 'alice.your-ai.com').placeholder, true, 'nothing of the CA\'s pair is written while the lock is held');
  });
  await write;
  assert.deepEqual(onDisk(root, 'alice.your-ai.com'), { cert: issued.cert, placeholder: false, matches: true });
  // The next placeholder pass finds a certificate and leaves it alone.
  assert.deepEqual(await withNginxLock(root, () => ensurePlaceholders(root, ['alice.your-ai.com'])), []);
  assert.equal(onDisk(root, 'alice.your-ai.com').cert, issued.cert);

  // Both at once, as a CLI edit and an issuance meet: whatever the order, the CA's pair ends on disk, whole.
  const hosts = Array.from({ length: 20 }, (_, i) => `u${i}.your-ai.com`);
  await Promise.all(hosts.flatMap((host) => [store.write(host, issued), withNginxLock(root, () => ensurePlaceholders(root, [host]))]));
  for (const host of hosts) assert.deepEqual(onDisk(root, host), { cert: issued.cert, placeholder: false, matches: true }, host);
});
