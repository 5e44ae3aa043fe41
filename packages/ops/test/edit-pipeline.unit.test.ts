// The one edit pipeline (editRoot) over an in-memory Docker: a refusal at any
// step before the write leaves the root byte-identical, every edit reads and
// writes ocm.yaml once and writes one audit line, and add, set, remove and a
// token rotation are edits it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Manifest, Rendered } from '@ocm/core';
import { DeploymentRoot, type AuditEntry, type FileChange, type LoadedManifest } from '@ocm/store';
import { addEdit, addUser, editRoot, initRoot, removeEdit, removeUser, setEdit, setUser, userToken, type Edit, type RuntimeContext } from '../src/index.js';
import { FakeEngine, FakeIptables } from './fakes.js';

/** A root that counts what the pipeline asks of it. */
class CountingRoot extends DeploymentRoot {
  readonly counts = { locked: 0, load: 0, render: 0, saveManifest: 0, apply: 0, audit: 0 };
  override locked<T>(fn: () => Promise<T>, options?: { requireManifest?: boolean }): Promise<T> { this.counts.locked++; return super.locked(fn, options); }
  override load(): Promise<LoadedManifest> { this.counts.load++; return super.load(); }
  override render(manifest: Manifest, rotate?: ReadonlySet<string>): Promise<Rendered> { this.counts.render++; return super.render(manifest, rotate); }
  override saveManifest(manifest: Manifest): Promise<void> { this.counts.saveManifest++; return super.saveManifest(manifest); }
  override apply(rendered: Rendered): Promise<FileChange[]> { this.counts.apply++; return super.apply(rendered); }
  override audit(entry: AuditEntry): Promise<void> { this.counts.audit++; return super.audit(entry); }
  reset(): void { for (const k of Object.keys(this.counts) as Array<keyof CountingRoot['counts']>) this.counts[k] = 0; }
}

interface Fixture { ctx: RuntimeContext & { root: CountingRoot }; engine: FakeEngine; root: string }

async function fixture(t: TestContext): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-ops-pipeline-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const engine = new FakeEngine();
  const root = `${dir}/root`;
  const ctx = { root: new CountingRoot(root), actor: 'test', engine, firewall: new FakeIptables() };
  await initRoot(ctx, { domain: 'example.test', image: 'gw:1' });
  await addUser(ctx, 'alice');
  ctx.root.reset();
  return { ctx, engine, root };
}

/** Every file under the root with its bytes and mode: what "nothing written" is checked against. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const mode = statSync(path).mode.toString(8);
    out.set(path, entry.isFile() ? `${mode} ${readFileSync(path, 'base64')}` : mode);
  }
  return out;
}

const auditActions = (root: string): string[] => readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);

test('an edit that throws writes nothing, and runs none of its hooks', async (t) => {
  const f = await fixture(t);
  const before = snapshot(f.root);
  const edit: Edit<void> = { plan: () => { throw new Error('no'); } };
  await assert.rejects(editRoot(f.ctx, edit), /no/);
  assert.deepEqual(snapshot(f.root), before);
  assert.deepEqual([f.ctx.root.counts.render, f.ctx.root.counts.saveManifest, f.ctx.root.counts.apply, f.ctx.root.counts.audit], [0, 0, 0, 0]);
});

test('a manifest the schema or the rules refuse writes nothing and reaches no hook', async (t) => {
  const f = await fixture(t);
  const before = snapshot(f.root);
  let hooked = false;
  const hook = async (): Promise<void> => { hooked = true; };
  const badSize: Edit<void> = { plan: (m) => ({ next: { ...m, users: m.users.map((u) => ({ ...u, memory: '2 gigs' })) }, beforeWrite: [hook], audit: () => ({ action: 'x' }), result: () => undefined }) };
  await assert.rejects(editRoot(f.ctx, badSize), (e: Error & { code?: string }) => e.code === 'OCM_E_MANIFEST_INVALID' && /users\[0\]\.memory: "2 gigs"/.test(e.message));
  const samePort: Edit<void> = { plan: (m) => ({ next: { ...m, users: [...m.users, { ...m.users[0]!, name: 'bob' }] }, beforeWrite: [hook], result: () => undefined }) };
  await assert.rejects(editRoot(f.ctx, samePort), (e: Error & { code?: string }) => e.code === 'OCM_E_MANIFEST_INVALID' && /already used by user "alice"/.test(e.message));
  assert.equal(hooked, false);
  assert.deepEqual(snapshot(f.root), before);
});

test('a hook that fails undoes what the earlier hooks prepared, and nothing is written', async (t) => {
  const f = await fixture(t);
  const before = snapshot(f.root);
  const undone: string[] = [];
  const edit: Edit<void> = {
    plan: (m) => ({
      next: { ...m, settings: { ...m.settings, domain: 'other.test' } },
      beforeWrite: [
        () => Promise.resolve({ undo: () => { undone.push('first'); return Promise.resolve(); } }),
        () => Promise.reject(new Error('image missing')),
      ],
      audit: () => ({ action: 'x' }),
      result: () => undefined,
    }),
  };
  await assert.rejects(editRoot(f.ctx, edit), /image missing/);
  assert.deepEqual(undone, ['first']);
  assert.deepEqual(snapshot(f.root), before);
});

test('add, set, token rotation and remove: one lock, one read, one render and one audit line each', async (t) => {
  const f = await fixture(t);
  const counts = f.ctx.root.counts;
  const steps: Array<[string, () => Promise<unknown>, string, number]> = [
    ['add', () => addUser(f.ctx, 'bob', { memory: '1g' }), 'user.add', 1],
    ['set', () => setUser(f.ctx, 'bob', { memory: '2g' }), 'user.set', 1],
    ['token', () => userToken(f.ctx, 'bob', true), 'token.rotate', 0],
    ['remove', () => removeUser(f.ctx, 'bob'), 'user.remove', 1],
  ];
  for (const [what, run, action, saves] of steps) {
    f.ctx.root.reset();
    const lines = auditActions(f.root).length;
    await run();
    assert.deepEqual(counts, { locked: 1, load: 1, render: 1, saveManifest: saves, apply: 1, audit: 1 }, what);
    assert.deepEqual(auditActions(f.root).slice(lines), [action], what);
  }
});

test('the user edits are plans: building and planning one touches nothing, and refusals come from the plan', async (t) => {
  const f = await fixture(t);
  const before = snapshot(f.root);
  const { manifest } = await f.ctx.root.load();
  assert.throws(() => addEdit(f.ctx, 'alice').plan(manifest), { code: 'OCM_E_USER_EXISTS' });
  assert.throws(() => addEdit(f.ctx, 'Bad Name'), { code: 'OCM_E_NAME_INVALID' });
  assert.throws(() => setEdit('nobody', { memory: '1g' }).plan(manifest), { code: 'OCM_E_USER_UNKNOWN' });
  assert.throws(() => removeEdit(f.ctx, 'alice', { purge: true }), { code: 'OCM_E_CONFIRM_REQUIRED' });
  const planned = setEdit('alice', { memory: '1g' }).plan(manifest);
  assert.ok(!('unchanged' in planned));
  assert.equal(planned.next?.users[0]?.memory, '1g');
  assert.equal(manifest.users[0]?.memory, undefined, 'the manifest in force is not changed by planning');
  assert.deepEqual(snapshot(f.root), before);
});

test('set refused by the host writes nothing; add undoes its preflight when the write fails', async (t) => {
  const f = await fixture(t);
  const before = snapshot(f.root);
  const hostCapacity = () => Promise.resolve({ cpus: 1, memoryBytes: 1024 ** 3 });
  await assert.rejects(setUser(f.ctx, 'alice', { memory: '4g', hostCapacity }), { code: 'OCM_E_LIMITS_EXCEED_HOST' });
  assert.deepEqual(snapshot(f.root), before);

  let undone = false;
  const failing = new (class extends DeploymentRoot {
    override saveManifest(): Promise<void> { return Promise.reject(new Error('disk full')); }
  })(f.root);
  await assert.rejects(addUser({ ...f.ctx, root: failing }, 'bob', { beforeWrite: () => Promise.resolve({ undo: () => { undone = true; return Promise.resolve(); } }) }), /disk full/);
  assert.equal(undone, true);
  assert.deepEqual(snapshot(f.root), before);
});

test('a purge removes the container before the trees go, and audits once', async (t) => {
  const f = await fixture(t);
  const order: string[] = [];
  const lines = auditActions(f.root).length;
  const result = await removeUser(f.ctx, 'alice', {
    purge: true, yes: true,
    removeContainer: () => {
      order.push(`container; tree there: ${String(readdirSync(`${f.root}/users`).includes('alice'))}`);
      return Promise.resolve(['ocm-alice']);
    },
  });
  assert.deepEqual(order, ['container; tree there: true']);
  assert.equal(result.purged, true);
  assert.equal(readdirSync(`${f.root}/users`).includes('alice'), false);
  assert.deepEqual(auditActions(f.root).slice(lines), ['user.purge']);
});

test('a removed user leaves her model group, the last member leaves it empty; an add may join a group by name', async (t) => {
  const f = await fixture(t);
  await addUser(f.ctx, 'bob');
  const { manifest } = await f.ctx.root.load();
  manifest.settings.models = { listenPort: 18790, providers: {}, groups: { kids: { daily: 1, members: ['alice', 'bob'] } } };
  await f.ctx.root.saveManifest(manifest);
  const members = async () => (await f.ctx.root.load()).manifest.settings.models?.groups['kids']?.members;
  await removeUser(f.ctx, 'bob');
  assert.deepEqual(await members(), ['alice']);
  const added = await addUser(f.ctx, 'bob', { group: 'kids' });
  assert.deepEqual(added.group, { name: 'kids', joined: true });
  assert.deepEqual(await members(), ['alice', 'bob']);
  assert.deepEqual((await addUser(f.ctx, 'carol', { group: 'teens' })).group, { name: 'teens', joined: false }, 'no such group here: added without one');
  await removeUser(f.ctx, 'bob');
  await removeUser(f.ctx, 'alice');
  assert.deepEqual(await members(), [], 'the group stays, with its budget, for the next member');
  const lines = readFileSync(`${f.root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; details?: { group?: string } });
  assert.equal(lines.filter((l) => l.action === 'user.remove' && l.details?.group === 'kids').length, 3, 'each removal says which group she left');
});
