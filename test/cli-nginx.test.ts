// nginx mode says what happened, without a daemon: each command that changes
// the rendered files tests and reloads nginx itself, a config nginx refuses
// fails the command that caused it (nginx keeps serving the last good one,
// its files put back), and nginx not running is a warning, not a failure.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ocm, tempDir } from './helpers/cli.js';
import { testRoot } from './helpers/ocm-root.js';
import { startNginx } from './reliability/support/nginx.js';
import { freePort } from './support/docker.js';
import { httpJson, waitFor } from './support/wait.js';

test('nginx mode without a daemon: the CLI reloads nginx, and a refused config fails the command that caused it', { timeout: 300_000 }, async (t) => {
  const { root } = await testRoot(t);
  const port = await freePort();
  const dir = tempDir(t, 'ocm-cli-nginx-');
  const nginx = await startNginx(t, dir, port);
  const manifest = `${root}/ocm.yaml`;
  const good = readFileSync(manifest, 'utf8')
    .replace('mode: embedded', 'mode: nginx')
    .replace('httpPort: 80', `httpPort: ${port}`)
    .replace('listenAddress: ""', 'listenAddress: 127.0.0.1')
    .replace('binary: nginx', `binary: nginx\n      config: ${nginx.configPath}\n      confDir: ${nginx.confDir}`);
  assert.match(good, new RegExp(`confDir: ${nginx.confDir}`));
  writeFileSync(manifest, good);
  const through = async (name: string): Promise<unknown> => (await httpJson(`http://127.0.0.1:${port}/healthz`, { headers: { host: `${name}.localhost` } })).json;
  const served = (name: string) => waitFor(async () => JSON.stringify(await through(name)).includes('"ok":true'), { what: `nginx to serve ${name}`, timeoutMs: 10_000, intervalMs: 100 });

  let r = await ocm(['add', 'alice'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^nginx tested and reloaded \(wrote alice\.conf, wrote ocm\.conf\)$/m);
  await served('alice');

  // A certificate that is not there: nginx -t refuses the new files, the add says so.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('tls: {}', 'tls:\n    certificate: /nonexistent/ocm-test.pem\n    key: /nonexistent/ocm-test.key'));
  r = await ocm(['add', 'bob'], { root });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /^error: nginx rejected the config: cannot load certificate "\/nonexistent\/ocm-test\.pem".* \(previous files restored\); nginx keeps serving its previous config$/m);
  assert.match(r.stderr, /^hint: fix what nginx names/m);
  assert.equal(existsSync(`${nginx.confDir}/bob.conf`), false, 'the refused files were put back');
  await served('alice');

  // Fixed by hand: `ocm render` applies it.
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/tls:\n {4}certificate: \S+\n {4}key: \S+/, 'tls: {}'));
  r = await ocm(['render'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^nginx tested and reloaded \(wrote bob\.conf\)$/m);
  await served('bob');

  // nginx stopped: the files are right, the command succeeds with a warning.
  process.kill(nginx.pid, 'SIGQUIT');
  await waitFor(() => !existsSync(`${dir}/nginx.pid`), { what: 'nginx to stop', timeoutMs: 10_000 });
  r = await ocm(['render'], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: nginx is not running; it accepts the new files \(nginx -t\) and serves them once it starts$/m);
});
