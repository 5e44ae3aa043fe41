// Moving a real gateway's user between two roots on this host: alice keeps a
// file in her workspace in root A, is exported, imported into root B (and a
// second time under another name), runs there healthy with her file, a new
// token and root B's origin, and a browser opens her Control UI through B's
// embedded proxy, pairs and connects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { detectLocalClientAddress } from '@ocm/store';
import { ocm, tempDir } from '../helpers/cli.js';
import { testRoot } from '../helpers/ocm-root.js';
import { hasChromium, launchBrowser } from '../support/browser.js';
import { DOMAIN, browseAndPair, configure, startDaemon } from '../support/control-ui.js';
import { freePort } from '../support/docker.js';

const slow = { timeoutMs: 600_000 };
const NOTE = '/home/node/.openclaw/workspace/moved-note.txt';

function inContainer(container: string, ...cmd: string[]): string {
  const r = spawnSync('docker', ['exec', '-u', '1000', container, ...cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('the real gateway: export from one root, import into another', { skip: hasChromium ? false : 'no Chromium' }, () => {
  test('alice moves with her workspace, runs healthy in root B and her Control UI connects', { timeout: 1_800_000 }, async (t) => {
    const local = detectLocalClientAddress();
    assert.ok(local !== undefined && !local.startsWith('127.'), `this host has a non-loopback address (${String(local)})`);
    const a = await testRoot(t, { real: true });
    const b = await testRoot(t, { real: true });
    const adminPort = await freePort();
    configure(b, (text) => text.replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${adminPort}`));
    const dir = tempDir(t);

    let r = await ocm(['add', 'alice'], { root: a.root, ...slow });
    assert.equal(r.code, 0, r.stderr);
    // Written by the tenant, inside her gateway, as her own work would be.
    inContainer(`${a.project}-alice`, 'sh', '-c', `mkdir -p /home/node/.openclaw/workspace && echo "written in root A" > ${NOTE}`);
    const tokenA = (await ocm(['token', 'alice'], { root: a.root })).stdout.trim();

    const file = `${dir}/alice.ocm-export.tar`;
    r = await ocm(['export', 'alice', '-o', file], { root: a.root, ...slow });
    assert.equal(r.code, 0, r.stderr);
    const payload = spawnSync('sh', ['-c', `tar -xOf "${file}" state.tar.gz | tar -tz`], { encoding: 'utf8' });
    assert.equal(payload.status, 0, payload.stderr);
    assert.match(payload.stdout, /^state\/openclaw\.json$/m);
    assert.ok(!/^state\/tmp\//m.test(payload.stdout), 'the owner lease and locks never travel');
    // alice's first copy goes: one real gateway less on a small host.
    assert.equal((await ocm(['stop', 'alice'], { root: a.root })).code, 0);

    r = await ocm(['import', file], { root: b.root, ...slow });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /imported alice on 127\.0\.0\.1:\d+.*the gateway is healthy/);
    const container = `${b.project}-alice`;
    assert.equal((await (await fetch(`http://127.0.0.1:${b.portBase}/healthz`)).json() as { ok: boolean }).ok, true);
    assert.equal(inContainer(container, 'cat', NOTE), 'written in root A\n');
    assert.notEqual((await ocm(['token', 'alice'], { root: b.root })).stdout.trim(), tokenA, 'root B gave her a new token');
    const config = readFileSync(`${b.root}/users/alice/state/openclaw.json`, 'utf8');
    assert.match(config, /alice\.your-ai\.test/, "root B's origin is merged into her restored config");

    r = await ocm(['import', file], { root: b.root });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error: user "alice" already exists in this root\nhint: .*--name/);
    r = await ocm(['import', file, '--name', 'alice2', '--no-start'], { root: b.root, ...slow });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(`${b.root}/users/alice2/state/workspace/moved-note.txt`, 'utf8'), /written in root A/);

    await startDaemon(b);
    const browser = await launchBrowser(t, { hostResolverRules: `MAP *.${DOMAIN} 127.0.0.1` });
    await browseAndPair(browser, `http://alice.${DOMAIN}:${b.proxyPort}`, b.root, 'alice', local);
  });
});
