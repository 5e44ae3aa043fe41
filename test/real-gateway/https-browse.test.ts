// HTTPS by itself, as a user meets it: a fresh root with settings.tls.acme
// pointed at a real CA (Pebble) adds alice with the real gateway, the daemon
// orders her certificate, and Chromium, trusting only Pebble's root through
// its NSS database (no flag that relaxes checking), opens her Control UI over
// HTTPS, is asked to pair, is approved, and connects over a WebSocket on TLS.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { connect } from 'node:tls';
import { detectLocalClientAddress } from '@ocm/store';
import { ocm } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { hasCertutil, hasChromium, homeTrusting, launchBrowser } from '../support/browser.js';
import { DOMAIN, browseAndPair, configure, startDaemon } from '../support/control-ui.js';
import { freePort } from '../support/docker.js';
import { opensslVerifies, startPebble } from '../support/pebble.js';

/** The issuer CN of the certificate served for a name, when it verifies against the root; undefined until then. */
async function verifiedIssuer(port: number, servername: string, ca: Buffer): Promise<string | undefined> {
  const socket = connect({ host: '127.0.0.1', port, servername, ca });
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([err]) => Promise.reject(err as Error))]);
    const cn = socket.getPeerCertificate().issuer.CN;
    return Array.isArray(cn) ? cn.join(', ') : cn;
  } catch {
    return undefined;
  } finally {
    socket.destroy();
  }
}

const skip = !hasChromium ? 'no Chromium' : !hasCertutil ? 'no certutil (libnss3-tools)' : false;

describe('the real gateway over HTTPS from an ACME CA', { skip }, () => {
  test('Chromium trusting the CA\'s root opens alice\'s UI over HTTPS, pairs and connects', { timeout: 900_000 }, async (t) => {
    const local = detectLocalClientAddress();
    assert.ok(local !== undefined && !local.startsWith('127.'), `this host has a non-loopback address (${String(local)})`);
    const a = await testRoot(t, { real: true });
    // The CA validates HTTP-01 on the proxy's plain listener; browsers use the HTTPS one.
    const pebble = await startPebble(t, { httpPort: a.proxyPort });
    const [tlsPort, adminPort] = [await freePort(), await freePort()];
    configure(a, (text) => text
      .replace('tls: {}', `tls:\n    acme:\n      email: admin@${DOMAIN}\n      directory: ${pebble.directory}\n      caFile: ${pebble.apiCaFile}`)
      .replace(`listen: 127.0.0.1:${a.proxyPort}`, `listen: 127.0.0.1:${a.proxyPort}\n    listenTls: 127.0.0.1:${tlsPort}`)
      .replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${adminPort}`));

    const added = await ocm(['add', 'alice'], { root: a.root, timeoutMs: 600_000 });
    assert.equal(added.code, 0, added.stderr);
    const host = `alice.${DOMAIN}`;
    const root = readFileSync(pebble.rootFile);
    // Ready once the HTTPS listener serves alice a certificate that verifies against Pebble's root.
    await startDaemon(a, 'alice', async () => (await verifiedIssuer(tlsPort, host, root)) !== undefined);
    const issuer = await verifiedIssuer(tlsPort, host, root);
    assert.match(issuer ?? '', /^Pebble Intermediate CA /, 'the certificate comes from Pebble');
    assert.match(await opensslVerifies(tlsPort, host, pebble.rootFile), /Verify return code: 0 \(ok\)/);
    const listed = await ocm(['tls', '--json'], { root: a.root });
    assert.equal(listed.code, 0, listed.stderr);
    const [status] = (JSON.parse(listed.stdout) as { hosts: Array<{ host: string; issuer?: string; lastError?: string }> }).hosts;
    assert.deepEqual([status?.host, status?.issuer, status?.lastError], [host, issuer, undefined]);

    // Without the root in its NSS database, the same browser refuses the certificate: the trust is what makes it work.
    const untrusting = await launchBrowser(t, { hostResolverRules: `MAP *.${DOMAIN} 127.0.0.1`, home: homeTrusting(t, pebble.apiCaFile) });
    const refused = await untrusting.newPage();
    await assert.rejects(refused.goto(`https://${host}:${tlsPort}/`), /ERR_CERT_AUTHORITY_INVALID/);
    await refused.close();

    const browser = await launchBrowser(t, { hostResolverRules: `MAP *.${DOMAIN} 127.0.0.1`, home: homeTrusting(t, pebble.rootFile) });
    const seen = await browseAndPair(browser, `https://${host}:${tlsPort}`, a.root, 'alice', local);
    assert.equal(seen.security?.issuer, issuer, 'Chromium was served the certificate Pebble issued');
    assert.match(seen.security?.protocol ?? '', /^TLS 1\.[23]$/);
    assert.ok(seen.webSockets.length > 0 && seen.webSockets.every((url) => url.startsWith(`wss://${host}:${tlsPort}`)), `the UI's WebSockets run over TLS: ${JSON.stringify(seen.webSockets)}`);
  });
});
