// `ocm daemon token` and `ocm daemon install` through the command module,
// on a root made by the real CLI: the unit's text, where it is written, and
// the refusals.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerDaemonCommands } from '../packages/cli/src/commands/daemon.js';
import { OCM_BIN, ocm, tempDir } from './helpers/cli.js';

async function daemonCli(args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('ocm').option('--root <dir>').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  registerDaemonCommands(program, { out: (s) => void out.push(s), err: (s) => void err.push(s), isTTY: false, env: {} });
  await program.parseAsync(args, { from: 'user' });
  return { out: out.join('\n'), err: err.join('\n') };
}

test('ocm daemon token and install', async (t) => {
  const root = `${tempDir(t)}/root`;
  assert.equal((await ocm(['init'], { root })).code, 0);

  const token = await daemonCli(['--root', root, 'daemon', 'token']);
  assert.equal(token.out, readFileSync(`${root}/admin.token`, 'utf8').trim());
  assert.match(token.out, /^[A-Za-z0-9_-]{43}$/);

  const printed = await daemonCli(['--root', root, 'daemon', 'install', '--print']);
  const unit = printed.out;
  assert.ok(unit.split('\n').includes(`ExecStart=${process.execPath} ${OCM_BIN} --root ${root} daemon`), unit);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^NoNewPrivileges=yes$/m);
  assert.match(unit, /^\[Install\]\nWantedBy=multi-user\.target$/m);

  const unitFile = `${tempDir(t)}/systemd/ocm.service`;
  const installed = await daemonCli(['--root', root, 'daemon', 'install', '--unit-file', unitFile, '--user', 'ocm']);
  const written = readFileSync(unitFile, 'utf8');
  assert.equal(statSync(unitFile).mode & 0o777, 0o644);
  assert.match(written, /^User=ocm$/m);
  assert.match(written, /^SupplementaryGroups=docker$/m);
  assert.ok(written.split('\n').includes(`ExecStart=${process.execPath} ${OCM_BIN} --root ${root} daemon`));
  assert.match(installed.out, /systemctl daemon-reload && systemctl enable --now ocm/);
  assert.match(installed.err, new RegExp(`wrote ${unitFile}`));

  // The same through the real bin/ocm, as an admin types it.
  const real = await ocm(['daemon', 'install', '--print'], { root });
  assert.equal(real.code, 0, real.stderr);
  assert.equal(real.stdout.trimEnd(), unit);
  assert.equal((await ocm(['daemon', 'token'], { root })).stdout.trim(), token.out);

  await assert.rejects(daemonCli(['--root', root, 'daemon', 'install', '--print', '--user', 'Not A User']), { code: 'OCM_E_USAGE' });
  await assert.rejects(daemonCli(['--root', root, 'daemon', 'run', '--log-level', 'loud']), { code: 'OCM_E_USAGE' });
  await assert.rejects(daemonCli(['--root', `${root}-missing`, 'daemon', 'token']), { code: 'OCM_E_MANIFEST_MISSING' });
  await assert.rejects(daemonCli(['--root', root, 'daemon', 'install', '--unit-file', '/proc/ocm.service']), /cannot write \/proc\/ocm\.service/);
});
