// The one way ocm.yaml changes: lock -> load -> edit -> validate (schema and
// rules) -> pre-write hooks -> render -> write -> after-write -> audit. An
// edit is a value: from the manifest in force to the next one, its audit
// record and the work that must happen around the write. A refusal at any
// step before the write leaves the root byte-identical.
import { OcmError, validateManifest, type Manifest } from '@ocm/core';
import type { AuditEntry, FileChange } from '@ocm/store';
import type { OpsContext } from './context.js';

/** Work a hook started ahead of the write, and how to take it back should the write fail. */
export interface Prepared {
  undo(): Promise<void>;
}

/** A hook run after validation and before the first write; what it prepared is undone if a later step fails. */
export type PreWriteHook = () => Promise<Prepared | void>;

/** What an edit asks for, given the manifest in force. */
export interface EditPlan<T> {
  /** The manifest to write; absent, ocm.yaml stays as it is and only the files are rendered (a token rotation). */
  next?: Manifest;
  /** Users whose token is replaced by the render. */
  rotate?: ReadonlySet<string>;
  /** In order, after validation; a failure undoes what the earlier ones prepared. */
  beforeWrite?: readonly PreWriteHook[];
  /** After the files are written; if it throws, the audit line is still written, then its error is thrown. */
  afterWrite?: () => Promise<void>;
  /**
   * The audit line, asked for once the write (and afterWrite) settled;
   * absent, or undefined from it: no line (upgrade audits all its users at once).
   */
  audit?: () => Omit<AuditEntry, 'actor'> | undefined;
  /** The edit's answer, computed under the lock after everything else. */
  result: (done: { manifest: Manifest; changes: FileChange[] }) => T | Promise<T>;
}

/** An edit with nothing to write (e.g. a revert that found ocm.yaml edited meanwhile). */
export interface Unchanged<T> { unchanged: T }

export interface Edit<T> {
  /**
   * How the manifest in force is read: 'act' (default) refuses one that lost
   * its users outside ocm; 'as-is' takes it as it is (putting ocm's own write
   * back); 'absent' requires there is none yet (init) and edits the defaults.
   */
  read?: 'act' | 'as-is' | 'absent';
  /** Pure: may refuse with an OcmError, but changes nothing outside its return value. */
  plan(current: Manifest): EditPlan<T> | Unchanged<T>;
}

const isUnchanged = <T>(planned: EditPlan<T> | Unchanged<T>): planned is Unchanged<T> => 'unchanged' in planned;

export async function editRoot<T>(ctx: OpsContext, edit: Edit<T>): Promise<T> {
  const read = edit.read ?? 'act';
  return ctx.root.locked(async () => {
    const current = await loadFor(ctx, read);
    const planned = edit.plan(current);
    if (isUnchanged(planned)) return planned.unchanged;
    // validateManifest runs the cross-field rules too.
    const next = planned.next === undefined ? undefined : validateManifest(planned.next);
    const prepared: Prepared[] = [];
    let changes: FileChange[];
    try {
      for (const hook of planned.beforeWrite ?? []) {
        const done = await hook();
        if (done !== undefined) prepared.push(done);
      }
      // Rendered after the hooks: one may have changed what the render reads (a purged tree's env file).
      const rendered = await ctx.root.render(next ?? current, planned.rotate);
      if (next !== undefined) await ctx.root.saveManifest(next);
      changes = await ctx.root.apply(rendered);
    } catch (error) {
      for (const p of prepared.reverse()) await p.undo().catch(() => undefined);
      throw error;
    }
    let failure: unknown;
    let failed = false;
    try {
      await planned.afterWrite?.();
    } catch (error) {
      failure = error;
      failed = true;
    }
    const record = planned.audit?.();
    if (record !== undefined) await ctx.root.audit({ actor: ctx.actor, ...record });
    if (failed) throw failure;
    return planned.result({ manifest: next ?? current, changes });
  }, { requireManifest: read !== 'absent' });
}

async function loadFor(ctx: OpsContext, read: 'act' | 'as-is' | 'absent'): Promise<Manifest> {
  if (read === 'absent') {
    if (await ctx.root.exists()) throw new OcmError('OCM_E_MANIFEST_EXISTS', `${ctx.root.manifestPath} already exists`);
    return validateManifest({});
  }
  const { manifest } = read === 'act' ? await ctx.root.loadToAct() : await ctx.root.load();
  return manifest;
}
