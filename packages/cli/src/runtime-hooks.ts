// After a manifest edit, bring that user's container in line: add starts and
// waits for health, set/token recreate only that user, remove takes the
// container away (data stays).
import type { Command } from 'commander';
import { OcmError, LABEL_ROOT, LABEL_USER, type Manifest, type User } from '@ocm/core';
import { applyChange } from '@ocm/ops/apply-change';
import { assertAllOk, removeContainer, up } from '@ocm/ops/lifecycle';
import { ensureNetworkPolicy } from '@ocm/ops/network-policy';
import { preflightStart, type PreparedStart } from '@ocm/ops/preflight';
import { showUser, type Prepared } from '@ocm/ops/users';
import { opsContext } from './context.js';
import { makeEngine } from './engine-factory.js';
import type { EditEvent } from './commands/users.js';
import type { Io } from './io.js';
import { syncNginx } from './nginx-sync.js';
import { progress } from './progress.js';

/**
 * Before an add that will start a container: Docker, the user's subnet and
 * the image (see ops/preflight). Hands back the early network creation, which
 * addUser undoes if its write fails.
 */
export async function preflight(cmd: Command, event: EditEvent, manifest: Manifest, user: User, io: Io): Promise<Prepared | undefined> {
  if (!event.start) return undefined;
  const engine = await makeEngine();
  const bar = progress(io);
  let prepared: PreparedStart;
  try {
    prepared = await preflightStart(engine, manifest, user, opsContext(cmd, io).root.path, bar.pull);
  } finally {
    bar.done();
  }
  for (const name of prepared.reclaimed) io.err(`removed network ${name}: a leftover of an interrupted add, it held ${user.name}'s subnet`);
  return prepared;
}

async function hasContainer(engine: Awaited<ReturnType<typeof makeEngine>>, root: string, name: string): Promise<boolean> {
  try {
    return (await engine.list({ labels: { [LABEL_ROOT]: root, [LABEL_USER]: name } })).length > 0;
  } catch (error) {
    if ((error as OcmError).code === 'OCM_E_DOCKER_UNREACHABLE') return true;
    throw error;
  }
}

async function policyFor(ctx: ReturnType<typeof opsContext>, io: Io): Promise<void> {
  const { manifest } = await ctx.root.load();
  const policy = await ensureNetworkPolicy(ctx, manifest);
  if (policy.warning !== undefined) io.err(`warning: ${policy.warning}`);
  for (const c of policy.changes) io.err(`network policy: ${c.action} ${c.chain} (${c.detail})`);
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
  if (event.kind === 'remove') {
    try {
      for (const name of await removeContainer({ ...ctx, engine }, event.name)) io.err(`removed container ${name}`);
    } catch (error) {
      if ((error as OcmError).code !== 'OCM_E_DOCKER_UNREACHABLE') throw error;
      io.err(`warning: Docker is not reachable; run \`ocm up\` later to remove ${event.name}'s container`);
    }
    // Their rules go with them; with the last user, the whole policy goes.
    await policyFor(ctx, io);
    return;
  }
  if (event.kind === 'set' && !(await hasContainer(engine, ctx.root.path, event.name))) {
    await policyFor(ctx, io);
    io.err(`${event.name} has no container yet; \`ocm up ${event.name}\` starts one`);
    return;
  }
  const bar = progress(io);
  try {
    const runtime = { ...ctx, engine };
    const options = { onHealth: bar.health, onEvent: bar.event, onPull: bar.pull };
    const { outcomes } = event.change === undefined ? await up(runtime, [event.name], options) : await applyChange(runtime, event.name, event.change, options);
    bar.done();
    assertAllOk(outcomes);
    for (const o of outcomes) if (o.action.kind !== 'leave') io.err(`${o.action.kind} ${'desired' in o.action ? o.action.desired.container.name : o.action.actual.name}: ${o.action.reason}`);
    if (event.kind === 'add') {
      const view = await showUser(ctx, event.name);
      io.err(`${event.name}'s gateway is healthy on 127.0.0.1:${view.port}`);
    }
  } catch (error) {
    bar.done();
    if (event.kind !== 'add' && (error as OcmError).code === 'OCM_E_DOCKER_UNREACHABLE') {
      io.err(`warning: Docker is not reachable; the files are updated, run \`ocm up ${event.name}\` when it is back`);
      return;
    }
    throw error;
  }
}
