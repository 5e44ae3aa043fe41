// The promise to a user, against the real OpenClaw gateway: a browser on the
// admin's own host and one on another machine (a network namespace) open the
// Control UI through the embedded proxy and through the rendered nginx config,
// are asked to pair, are approved with `ocm devices`, and connect.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { detectLocalClientAddress } from '@ocm/store';
import { ocm, tempDir } from '../helpers/cli.js';
import { testRoot, type TestRoot } from '../helpers/ocm-root.js';
import { hasChromium, launchBrowser } from '../support/browser.js';
import { DOMAIN, browseAndPair, configure, startDaemon } from '../support/control-ui.js';
import { freePort } from '../support/docker.js';
import { testHost } from '../support/netns.js';

async function startNginx(target: TestRoot, dir: string, confDir: string): Promise<{ config: string; reload: () => Promise<void> }> {
  mkdirSync(`${dir}/temp`, { recursive: true });
  const config = `${dir}/nginx.conf`;
  writeFileSync(config, `user root root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/temp/client_body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  include ${confDir}/*.conf;
}
`);
  const child = spawn('nginx', ['-c', config, '-e', `${dir}/error.log`, '-g', 'daemon off;'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  target.stopFirst(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
  });
  const reload = async () => {
    const r = spawn('nginx', ['-c', config, '-e', `${dir}/error.log`, '-s', 'reload'], { stdio: 'ignore' });
    await new Promise((resolve) => r.on('exit', resolve));
  };
  return { config, reload };
}

describe('the real gateway: browse, pair and connect', { skip: hasChromium ? false : 'no Chromium' }, () => {
  test('from this host and from another host, through the embedded proxy and through nginx', { timeout: 900_000 }, async (t) => {
    const local = detectLocalClientAddress();
    assert.ok(local !== undefined && !local.startsWith('127.'), `this host has a non-loopback address (${String(local)})`);
    const lan = await testHost(t, '192.168.239');

    // alice behind the embedded proxy, listening on every address.
    const a = await testRoot(t, { real: true });
    const adminPort = await freePort();
    configure(a, (text) => text
      .replace(`listen: 127.0.0.1:${a.proxyPort}`, `listen: 0.0.0.0:${a.proxyPort}`)
      .replace(/listen: 127\.0\.0\.1:7070/, `listen: 127.0.0.1:${adminPort}`));

    // bob behind the rendered nginx config, on nginx of the test's own.
    const b = await testRoot(t, { real: true });
    const nginxPort = await freePort();
    const nginxDir = tempDir(t, 'ocm-nginx-');
    const nginx = await startNginx(b, nginxDir, `${b.root}/nginx`);
    configure(b, (text) => text
      .replace('mode: embedded', 'mode: nginx')
      .replace('httpPort: 80', `httpPort: ${nginxPort}`)
      .replace('binary: nginx', `binary: nginx\n      config: ${nginx.config}`));

    const slow = { timeoutMs: 600_000 };
    const [addA, addB] = await Promise.all([ocm(['add', 'alice'], { root: a.root, ...slow }), ocm(['add', 'bob'], { root: b.root, ...slow })]);
    assert.equal(addA.code, 0, addA.stderr);
    assert.equal(addB.code, 0, addB.stderr);
    const bobConf = readFileSync(`${b.root}/nginx/ocm.conf`, 'utf8');
    assert.match(bobConf, new RegExp(`~\\^127\\\\\\.\\s+"${local.replace(/\./g, '\\.')}";`), 'nginx forwards a local browser as this host');
    await nginx.reload();
    await startDaemon(a);

    const here = await launchBrowser(t, { hostResolverRules: `MAP *.${DOMAIN} 127.0.0.1` });
    const there = await launchBrowser(t, { executablePath: lan.chromium, hostResolverRules: `MAP *.${DOMAIN} ${lan.hostAddress}` });

    await t.test('this host, embedded proxy', async () => void (await browseAndPair(here, `http://alice.${DOMAIN}:${a.proxyPort}`, a.root, 'alice', local)));
    await t.test('another host, embedded proxy', async () => void (await browseAndPair(there, `http://alice.${DOMAIN}:${a.proxyPort}`, a.root, 'alice', lan.address)));
    await t.test('this host, nginx', async () => void (await browseAndPair(here, `http://bob.${DOMAIN}:${nginxPort}`, b.root, 'bob', local)));
    await t.test('another host, nginx', async () => void (await browseAndPair(there, `http://bob.${DOMAIN}:${nginxPort}`, b.root, 'bob', lan.address)));

    const log = readFileSync(`${a.root}/audit.log`, 'utf8');
    assert.equal(log.split('\n').filter((l) => l.includes('"device.approve"')).length, 2, 'each approval is audited');
  });
});
