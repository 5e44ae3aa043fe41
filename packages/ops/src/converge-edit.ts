// After an edit of ocm.yaml, bring Docker and the network policy in line with
// it: the one follow-up the CLI and the admin API share, so `ocm set` and
// PATCH /api/users/:name behave the same. add starts and waits for health
// (unless it should not start), set and a rotated token recreate only that
// user (make before break; a refused set puts ocm.yaml back), remove takes
// the container away (data stays). Docker being away is a warning after a
// set or remove (the files are right; `ocm up` finishes the job), an error
// for add.
import { LABEL_ROOT, LABEL_USER, type OcmError } from '@ocm/core';
import type { ReconcileOutcome } from '@ocm/engine';
import { applyChange } from './apply-change.js';
import { assertAllOk, removeContainer, up, type LifecycleOptions } from './lifecycle.js';
import { ensureNetworkPolicy, type PolicyResult } from './network-policy.js';
import type { RuntimeContext } from './runtime-context.js';
import type { SetResult } from './users.js';

export interface EditEvent {
  kind: 'add' | 'set' | 'remove' | 'token';
  name: string;
  /** add: start the new user's gateway (false for --no-start); set: the user is enabled. */
  start: boolean;
  /** A set's written and previous manifest: put back if Docker refuses the change. */
  change?: Pick<SetResult, 'manifest' | 'previous'>;
}

export interface ConvergeReport {
  outcomes: ReconcileOutcome[];
  /** Containers removed (remove). */
  removed: string[];
  policy?: PolicyResult;
  /** What was deliberately left to do, in words ("bob has no container yet; ..."). */
  notes: string[];
  warnings: string[];
}

const dockerAway = (error: unknown): boolean => (error as OcmError).code === 'OCM_E_DOCKER_UNREACHABLE';

export async function convergeEdit(ctx: RuntimeContext, event: EditEvent, options: LifecycleOptions = {}): Promise<ConvergeReport> {
  const report: ConvergeReport = { outcomes: [], removed: [], notes: [], warnings: [] };
  if (event.kind === 'add' && !event.start) return report;
  const policy = async (): Promise<void> => {
    const { manifest } = await ctx.root.load();
    report.policy = await ensureNetworkPolicy(ctx, manifest);
    if (report.policy.warning !== undefined) report.warnings.push(report.policy.warning);
  };
  if (event.kind === 'remove') {
    try {
      report.removed = await removeContainer(ctx, event.name);
    } catch (error) {
      if (!dockerAway(error)) throw error;
      report.warnings.push(`Docker is not reachable; run \`ocm up\` later to remove ${event.name}'s container`);
    }
    // Their rules go with them; with the last user, the whole policy goes.
    // While nobody of this root runs, the firewall is left as it is.
    const { manifest } = await ctx.root.load();
    if (manifest.users.length === 0 || (await hasContainers(ctx))) await policy();
    return report;
  }
  if ((event.kind === 'set' || event.kind === 'token') && !(await hasContainers(ctx, event.name))) {
    // Nothing of this user runs, so nothing of theirs needs a rule; the
    // policy is refreshed only when others run (as `add --no-start` leaves
    // the firewall alone, so does a set before the first start).
    if (await hasContainers(ctx)) await policy();
    report.notes.push(`${event.name} has no container yet; \`ocm up ${event.name}\` starts one`);
    return report;
  }
  try {
    const result = event.change === undefined ? await up(ctx, [event.name], options) : await applyChange(ctx, event.name, event.change, options);
    assertAllOk(result.outcomes);
    report.outcomes = result.outcomes;
    report.policy = result.policy;
    if (result.policy.warning !== undefined) report.warnings.push(result.policy.warning);
  } catch (error) {
    if (event.kind === 'add' || !dockerAway(error)) throw error;
    report.warnings.push(`Docker is not reachable; the files are updated, run \`ocm up ${event.name}\` when it is back`);
  }
  return report;
}

/** Whether the user (or, without a name, anyone of this root) has a container; Docker unreachable counts as yes: the follow-up says so. */
async function hasContainers(ctx: RuntimeContext, name?: string): Promise<boolean> {
  try {
    const labels = { [LABEL_ROOT]: ctx.root.path, ...(name === undefined ? {} : { [LABEL_USER]: name }) };
    return (await ctx.engine.list({ labels })).length > 0;
  } catch (error) {
    if (dockerAway(error)) return true;
    throw error;
  }
}
