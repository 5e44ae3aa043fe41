// The edit pipeline and its follow-up (add, set, token, remove, up) over an
// in-memory Docker and firewall: what runs, what is recorded in ocm.yaml and
// what the firewall holds after each, including a change Docker refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DeploymentRoot } from '@ocm/store';
import { addUser, backupUsers, convergeEdit, initRoot, lastBackupResult, removeUser, setUser, up, userToken, type RuntimeContext } from '../src/index.js';
import { FakeEngine, FakeIptables } from './fakes.js';

interface Fixture { ctx: RuntimeContext; engine: FakeEngine; firewall: FakeIptables; root: string }

async function fixture(t: TestContext): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-ops-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const engine = new FakeEngine();
  const firewall = new FakeIptables();
  const root = `${dir}/root`;
  const ctx: RuntimeContext = { root: new DeploymentRoot(root), actor: 'test', engine, firewall };
  await initRoot(ctx, { domain: 'example.test', image: 'gw:1' });
  return { ctx, engine, firewall, root };
}

const noWait = { wait: false } as const;

async function add(f: Fixture, name: string, start = true): Promise<void> {
  await addUser(f.ctx, name);
  await convergeEdit(f.ctx, { kind: 'add', name, start }, noWait);
}

test('add starts one hardened container on its own network, behind the firewall, and up then changes nothing', async (t) => {
  const f = await fixture(t);
  await add(f, 'alice');
  assert.deepEqual(f.engine.calls, ['network ocm-alice', 'create ocm-alice', 'start ocm-alice']);
  assert.equal(f.engine.state('ocm-alice'), 'running');
  assert.deepEqual(f.firewall.ours('ocm'), ['OCM-ocm-FWD', 'OCM-ocm-IN']);
  assert.ok((await f.firewall.rules('DOCKER-USER')).some((r) => r.join(' ') === '-s 10.231.0.0/16 -j OCM-ocm-FWD'));

  const before = f.engine.calls.length;
  const again = await up(f.ctx, [], noWait);
  assert.deepEqual(again.outcomes.map((o) => o.action.kind), ['leave']);
  assert.deepEqual(again.policy.changes, []);
  assert.equal(f.engine.calls.length, before, 'an unchanged user is not touched');
});

test('set replaces the container make-before-break; a refused change keeps the old one and puts ocm.yaml back', async (t) => {
  const f = await fixture(t);
  await add(f, 'alice');
  const firstId = (await f.engine.find('ocm-alice'))!.id;

  const changed = await setUser(f.ctx, 'alice', { memory: '1g' });
  await convergeEdit(f.ctx, { kind: 'set', name: 'alice', start: true, change: changed }, noWait);
  const second = await f.engine.find('ocm-alice');
  assert.notEqual(second!.id, firstId);
  assert.equal(second!.state, 'running');
  assert.deepEqual([...f.engine.containers.keys()], ['ocm-alice'], 'the old container is gone, no .next/.prev left');
  assert.match(readFileSync(`${f.root}/ocm.yaml`, 'utf8'), /memory: 1g/);

  const yaml = readFileSync(`${f.root}/ocm.yaml`, 'utf8');
  f.engine.refuseCreate = () => 'Minimum memory limit allowed is 6MB';
  const refused = await setUser(f.ctx, 'alice', { memory: '2g' });
  await assert.rejects(convergeEdit(f.ctx, { kind: 'set', name: 'alice', start: true, change: refused }, noWait), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'OCM_E_CHANGE_REFUSED');
    assert.match(e.message, /Minimum memory limit.*ocm\.yaml is as it was/);
    return true;
  });
  assert.equal(readFileSync(`${f.root}/ocm.yaml`, 'utf8'), yaml, 'ocm.yaml records what runs');
  const kept = await f.engine.find('ocm-alice');
  assert.equal(kept!.id, second!.id, 'the running gateway was never replaced');
  assert.equal(kept!.state, 'running');
});

test('a user without a container: set and token leave Docker and the firewall alone, and say how to start', async (t) => {
  const f = await fixture(t);
  await add(f, 'bob', false);
  assert.deepEqual(f.engine.calls, []);
  await userToken(f.ctx, 'bob', true);
  const report = await convergeEdit(f.ctx, { kind: 'token', name: 'bob', start: true }, noWait);
  assert.deepEqual(report.notes, ['bob has no container yet; `ocm up bob` starts one']);
  assert.deepEqual(f.firewall.ours('ocm'), [], 'no chains for a pool where nothing runs');
  assert.deepEqual(f.engine.calls, []);

  // Once someone runs, the policy is kept current by the same edits.
  await add(f, 'alice');
  await userToken(f.ctx, 'bob', true);
  await convergeEdit(f.ctx, { kind: 'token', name: 'bob', start: true }, noWait);
  assert.deepEqual(f.firewall.ours('ocm'), ['OCM-ocm-FWD', 'OCM-ocm-IN']);
});

test('remove takes the container and network away, and with the last user the whole policy', async (t) => {
  const f = await fixture(t);
  await add(f, 'alice');
  await add(f, 'bob');
  await removeUser(f.ctx, 'alice');
  await convergeEdit(f.ctx, { kind: 'remove', name: 'alice', start: false }, noWait);
  assert.equal(await f.engine.find('ocm-alice'), undefined);
  assert.equal(f.engine.networks.has('ocm-alice'), false);
  assert.deepEqual(f.firewall.ours('ocm'), ['OCM-ocm-FWD', 'OCM-ocm-IN'], 'bob still runs behind it');

  await removeUser(f.ctx, 'bob');
  await convergeEdit(f.ctx, { kind: 'remove', name: 'bob', start: false }, noWait);
  assert.deepEqual([...f.engine.containers.keys()], []);
  assert.deepEqual(f.firewall.ours('ocm'), []);
  assert.deepEqual(await f.firewall.rules('DOCKER-USER'), []);
  assert.deepEqual(await f.firewall.rules('INPUT'), []);
});

test('a backup holds the gateway still and lets it go, writing only under backups/', async (t) => {
  const f = await fixture(t);
  await add(f, 'alice');
  // A drifted file stays drifted: a backup reads ocm.yaml and renders nothing.
  const compose = `${f.root}/docker-compose.yml`;
  writeFileSync(compose, `${readFileSync(compose, 'utf8')}# hand edit\n`);
  f.engine.calls.length = 0;
  const [outcome] = await backupUsers(f.ctx, ['alice']);
  assert.equal(outcome?.ok, true, outcome?.error?.message);
  assert.deepEqual(f.engine.calls, ['pause ocm-alice', 'unpause ocm-alice']);
  assert.equal(f.engine.state('ocm-alice'), 'running');
  assert.match(outcome.archive ?? '', new RegExp(`^${f.root}/backups/alice/alice-.*\\.tar\\.gz$`));
  assert.match(readFileSync(compose, 'utf8'), /# hand edit\n$/);
  assert.deepEqual(lastLines(`${f.root}/audit.log`).map((l) => l.action), ['backup']);
});

test('a scheduled run retries a failed user once after the pause; a manual one reports at once', async (t) => {
  const f = await fixture(t);
  await add(f, 'alice');
  f.engine.calls.length = 0;
  f.engine.failPauses = 1;
  const [manual] = await backupUsers(f.ctx, ['alice']);
  assert.equal(manual?.ok, false);
  assert.equal(manual?.attempts, 1);
  assert.match(manual?.error?.message ?? '', /unable to freeze/);

  f.engine.failPauses = 1;
  const [scheduled] = await backupUsers(f.ctx, [], { scheduled: true, retryDelayMs: 10 });
  assert.equal(scheduled?.ok, true, scheduled?.error?.message);
  assert.equal(scheduled?.attempts, 2);
  assert.equal(scheduled?.kind, 'scheduled');
  assert.deepEqual(await lastBackupResult(f.root, 'alice'), scheduled, 'the outcome status shows is the one on disk');
  await assert.rejects(backupUsers(f.ctx, ['nobody']), { code: 'OCM_E_USER_UNKNOWN' });
});

/** The audit lines written after the last `up` (the edits before it are not this test's subject). */
function lastLines(path: string): Array<{ action: string }> {
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string });
  const from = lines.map((l) => l.action).lastIndexOf('up');
  return lines.slice(from + 1);
}
