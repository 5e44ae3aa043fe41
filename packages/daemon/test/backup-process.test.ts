// The daemon's backups in a child `ocm backup --json`: a child that hangs
// past its deadline is killed and the user it left paused is thawed; a real
// child backs a user with FIFOs in its tree up and reports the outcome.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import pino from 'pino';
import { containerName, parseManifest } from '@ocm/core';
import { DockerEngine } from '@ocm/engine';
import { backupProcess } from '@ocm/daemon';
import { OCM_BIN } from '../../../test/helpers/cli.js';
import { getDocker } from '../../../test/support/docker.js';
import { cli, makeRoot } from './support/root.js';

const logger = pino({ level: 'silent' });

test('a backup child stuck past its deadline is killed, and the user it paused is thawed', { timeout: 120_000 }, async (t) => {
  const { root } = await makeRoot(t);
  await cli(root, 'add', 'alice');
  const manifest = () => parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  const container = containerName(manifest(), 'alice');
  // Stands in for a child wedged on a tenant's tree while the user is frozen.
  const run = backupProcess({
    command: ['sh', '-c', `docker pause ${container} >/dev/null && exec sleep 60`, 'sh'],
    root, engine: new DockerEngine(), manifest, logger, deadlineMs: 8000,
  });
  const [outcome] = await run(['alice']);
  assert.equal(outcome?.ok, false);
  assert.equal(outcome?.error?.code, 'OCM_E_BACKUP_TIMEOUT');
  const state = (await getDocker().getContainer(container).inspect()).State;
  assert.equal(state.Paused, false, 'the user was left paused');
  assert.equal(state.Running, true);
});

test('a real child backs a user with FIFOs in its tree up and hands the outcome back', { timeout: 120_000 }, async (t) => {
  const { root } = await makeRoot(t);
  await cli(root, 'add', 'alice');
  for (let i = 0; i < 6; i++) assert.equal(spawnSync('mkfifo', [`${root}/users/alice/state/fifo${i}`]).status, 0);
  const manifest = () => parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  const run = backupProcess({ command: [process.execPath, OCM_BIN], root, engine: new DockerEngine(), manifest, logger });
  const [outcome] = await run(['alice']);
  assert.equal(outcome?.ok, true, JSON.stringify(outcome));
  assert.match(outcome?.archive ?? '', /alice-\d{8}T\d{6}Z-manual\.tar\.gz$/, 'asked for through the API: a manual backup');
  await new Promise((res) => setTimeout(res, 1100)); // archive names have one-second resolution
  const [nightly] = await run(['alice'], { scheduled: true });
  assert.match(nightly?.archive ?? '', /alice-\d{8}T\d{6}Z\.tar\.gz$/, 'the schedule\'s run is a scheduled backup');
  assert.equal(nightly?.kind, 'scheduled');
  const audit = readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string });
  assert.notEqual(audit.filter((e) => e.action === 'backup').at(-1)?.actor, 'api', 'the backup ran in the child, not in-process');
});
