// After a manifest edit: ops' convergeEdit (the same follow-up the admin API
// runs) with progress on stderr, then nginx in nginx mode.
import type { Command } from 'commander';
import type { Manifest, User } from '@ocm/core';
import { convergeEdit } from '@ocm/ops/converge-edit';
import { startChecks, type PreparedStart } from '@ocm/ops/preflight';
import { showUser, type Prepared } from '@ocm/ops/users';
import { opsContext } from './context.js';
import { makeEngine } from './engine-factory.js';
import type { EditEvent } from './commands/users.js';
import type { Io } from './io.js';
import { syncNginx } from './nginx-sync.js';
import { progress } from './progress.js';

/**
 * Before an add that will start a container: Docker, the user's subnet and
 * the image (ops startChecks, as the admin API runs them), with progress on
 * stderr. Hands back the early network creation, which addUser undoes if its
 * write fails.
 */
export async function preflight(cmd: Command, event: EditEvent, manifest: Manifest, user: User, io: Io): Promise<Prepared | undefined> {
  if (!event.start) return undefined;
  // Docker's client is loaded before the progress board is drawn.
  await makeEngine();
  const bar = progress(io);
  const reclaimed: string[] = [];
  let prepared: PreparedStart;
  try {
    prepared = await startChecks(makeEngine, opsContext(cmd, io).root.path, { onPull: bar.pull, onReclaimed: (network) => reclaimed.push(network) }).beforeWrite(manifest, user);
  } finally {
    bar.done();
  }
  for (const name of reclaimed) io.err(`removed network ${name}: a leftover of an interrupted add, it held ${user.name}'s subnet`);
  return prepared;
}

export async function afterEdit(cmd: Command, event: EditEvent, io: Io): Promise<void> {
  let failed = true;
  try {
    await converge(cmd, event, io);
    failed = false;
  } finally {
    // nginx follows ocm.yaml whatever Docker did (a refused set has put it back);
    // when the edit itself failed, its error is the one to report.
    if (failed) await syncNginx(cmd, io).catch(() => undefined);
    else await syncNginx(cmd, io);
  }
}

async function converge(cmd: Command, event: EditEvent, io: Io): Promise<void> {
  const ctx = opsContext(cmd, io);
  if (event.kind === 'add' && !event.start) return;
  const engine = await makeEngine();
  const bar = progress(io);
  let report;
  try {
    report = await convergeEdit({ ...ctx, engine }, event, { onHealth: bar.health, onEvent: bar.event, onPull: bar.pull });
  } finally {
    bar.done();
  }
  for (const name of report.removed) io.err(`removed container ${name}`);
  for (const c of report.policy?.changes ?? []) io.err(`network policy: ${c.action} ${c.chain} (${c.detail})`);
  for (const o of report.outcomes) if (o.action.kind !== 'leave') io.err(`${o.action.kind} ${'desired' in o.action ? o.action.desired.container.name : o.action.actual.name}: ${o.action.reason}`);
  for (const warning of report.warnings) io.err(`warning: ${warning}`);
  for (const note of report.notes) io.err(note);
  if (event.kind === 'add') {
    const view = await showUser(ctx, event.name);
    io.err(`${event.name}'s gateway is healthy on 127.0.0.1:${view.port}`);
  }
}
