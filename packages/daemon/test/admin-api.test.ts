// The admin API against real gateways: its edits leave ocm.yaml exactly as
// the same CLI commands do, and start/stop/restart, logs, token rotation,
// status and backups (on demand and scheduled) work through the daemon.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseManifest, type Manifest } from '@ocm/core';
import type { ScheduleFn } from '@ocm/backup';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { ocm } from '../../../test/helpers/cli.js';
import { startDaemon } from './support/daemon.js';
import { cli, makeRoot, tokenOf } from './support/root.js';

/** ocm.yaml without what differs between two test roots on purpose (ports, pool, names, labels). */
function comparable(root: string, base: number): unknown {
  const m: Manifest = parseManifest(readFileSync(`${root}/ocm.yaml`, 'utf8'));
  const { ports: _p, network: _n, project: _j, labels: _l, proxy, ...settings } = m.settings as Manifest['settings'] & { project?: string; labels?: unknown };
  return { settings: { ...settings, proxy: { ...proxy, listen: '-' } }, users: m.users.map((u) => ({ ...u, port: u.port - base })) };
}

const auditActions = (root: string): string[] =>
  readFileSync(`${root}/audit.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string }).map((e) => e.action);

test('admin API: the same edits as the CLI, lifecycle, logs, token, status and backups', { timeout: 150_000 }, async (t) => {
  const viaCli = await makeRoot(t);
  const viaApi = await makeRoot(t);
  let fire: (() => void) | undefined;
  const schedule: ScheduleFn = (expression, f, options) => {
    assert.equal(expression, '0 3 * * *');
    assert.equal(options.timezone, 'UTC');
    fire = f;
    return { stop: () => undefined };
  };
  const { admin, token, daemon, logs } = await startDaemon(t, viaApi.root, { schedule, backupRetryDelayMs: 100 });
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    httpJson<T>(`${admin}${path}`, { method, headers: { authorization: `Bearer ${token}` }, timeoutMs: 60_000, ...(body === undefined ? {} : { body }) });

  await t.test('add, set and remove change ocm.yaml exactly as the CLI does', async () => {
    await cli(viaCli.root, 'add', 'alice', '--memory', '1g', '--env', 'OPENAI_API_KEY=sk-test-1', '--env', 'OCM_FIXTURE_USER=alice');
    await cli(viaCli.root, 'set', 'alice', '--cpus', '1.5', '--unset-env', 'OPENAI_API_KEY', '--env', 'FOO=bar');
    await cli(viaCli.root, 'add', 'bob', '--no-start');
    const setBob = await ocm(['set', 'bob', '--memory', '512m'], { root: viaCli.root });
    assert.equal(setBob.code, 0, setBob.stderr);
    assert.match(setBob.stderr, /^bob has no container yet; `ocm up bob` starts one$/m);
    await cli(viaCli.root, 'remove', 'bob');

    let r = await api('POST', '/api/users', { name: 'alice', memory: '1g', env: { OPENAI_API_KEY: 'sk-test-1', OCM_FIXTURE_USER: 'alice' } });
    assert.equal(r.status, 201, r.text);
    assert.equal((r.json as { started: boolean }).started, true);
    assert.ok(!r.text.includes('sk-test-1'), 'secrets are masked in answers');
    r = await api('PATCH', '/api/users/alice', { cpus: '1.5', unsetEnv: ['OPENAI_API_KEY'], env: { FOO: 'bar' } });
    assert.equal(r.status, 200, r.text);
    r = await api('POST', '/api/users', { name: 'bob', start: false });
    assert.equal(r.status, 201, r.text);
    // The same follow-up as the CLI's (ops convergeEdit): a set does not start a user who has no container.
    r = await api('PATCH', '/api/users/bob', { memory: '512m' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.json as { notes?: string[] }).notes, ['bob has no container yet; `ocm up bob` starts one']);
    r = await api('DELETE', '/api/users/bob');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { removed: 'bob', purged: false, containers: [] });

    assert.deepEqual(comparable(viaApi.root, viaApi.portBase), comparable(viaCli.root, viaCli.portBase));
    // The policy is applied once alice is recorded, by whichever of the API
    // handler and the daemon's manifest watch gets there first, so its line
    // may come before or after user.add: compared apart from the sequence.
    const edits = (root: string): string[] => auditActions(root).filter((a) => a !== 'netpolicy.apply');
    assert.deepEqual(edits(viaApi.root), edits(viaCli.root));
    assert.ok(auditActions(viaApi.root).includes('netpolicy.apply') && auditActions(viaCli.root).includes('netpolicy.apply'), 'both applied the network policy');
    assert.match(readFileSync(`${viaApi.root}/audit.log`, 'utf8'), /"actor":"api"/);
    const envKeys = (root: string) => readFileSync(`${root}/users/alice/env`, 'utf8').split('\n').map((l) => l.split('=')[0]).filter(Boolean).sort();
    assert.deepEqual(envKeys(viaApi.root), envKeys(viaCli.root));

    const refused = await api('DELETE', '/api/users/alice?purge=true');
    assert.equal(refused.status, 400);
    assert.equal((refused.json as { code: string }).code, 'OCM_E_CONFIRM_REQUIRED');
    // More CPUs than Docker's host has: refused before ocm.yaml changes, alice untouched.
    const manifestBefore = readFileSync(`${viaApi.root}/ocm.yaml`, 'utf8');
    const tooMany = await api('PATCH', '/api/users/alice', { cpus: '512' });
    assert.equal(tooMany.status, 422, tooMany.text);
    assert.equal((tooMany.json as { code: string }).code, 'OCM_E_LIMITS_EXCEED_HOST');
    assert.equal(readFileSync(`${viaApi.root}/ocm.yaml`, 'utf8'), manifestBefore);
    const list = await api<{ users: Array<{ name: string; cpus: number; memory: string }> }>('GET', '/api/users');
    assert.deepEqual(list.json?.users.map((u) => [u.name, u.cpus, u.memory]), [['alice', 1.5, '1g']]);
  });

  await t.test('status, stop, start, restart and logs', async () => {
    const status = async () => (await api<{ users: Array<{ name: string; state: string; health: string; startedAt?: string; route?: string; memoryLimitBytes: number }> }>('GET', '/api/status')).json?.users[0];
    const before = await status();
    assert.equal(before?.state, 'running');
    assert.equal(before?.health, 'healthy');
    assert.equal(before?.memoryLimitBytes, 1024 ** 3);
    assert.equal((await api('POST', '/api/users/alice/stop')).status, 200);
    assert.equal((await status())?.state, 'exited');
    assert.equal((await api('POST', '/api/users/alice/start')).status, 200);
    assert.equal((await api('POST', '/api/users/alice/restart')).status, 200);
    const after = await status();
    assert.equal(after?.health, 'healthy');
    assert.notEqual(after?.startedAt, before?.startedAt);
    await waitFor(async () => (await status())?.route === 'up', { timeoutMs: 5000, what: 'route up again' });
    const log = await api<{ lines: string[] }>('GET', '/api/users/alice/logs?tail=5');
    assert.equal(log.status, 200);
    assert.ok((log.json?.lines.length ?? 0) > 0 && (log.json?.lines.length ?? 0) <= 5);
    assert.ok(log.json?.lines.some((l) => l.includes('[gateway]')));
  });

  await t.test('token rotation returns the new token, which the recreated gateway accepts', async () => {
    const old = tokenOf(viaApi.root, 'alice');
    const r = await api<{ name: string; token: string }>('POST', '/api/users/alice/token/rotate');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['cache-control'], 'no-store');
    const fresh = r.json?.token ?? '';
    assert.notEqual(fresh, old);
    assert.equal(fresh, tokenOf(viaApi.root, 'alice'));
    const port = (await api<{ port: number }>('GET', '/api/users/alice')).json?.port;
    const whoami = (t: string) => httpJson(`http://127.0.0.1:${port}/api/whoami`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal((await whoami(fresh)).status, 200);
    assert.equal((await whoami(old)).status, 401);
    assert.ok(!logs.join('').includes(fresh), 'the new token reached the log');
  });

  await t.test('backups: a job through the API, then the schedule', async () => {
    const started = await api<{ id: string; state: string }>('POST', '/api/backups', { names: ['alice'] });
    assert.equal(started.status, 202, started.text);
    assert.equal(started.headers.location, `/api/backups/jobs/${started.json?.id}`);
    const job = await waitFor(async () => {
      const r = await api<{ state: string; outcomes?: Array<{ ok: boolean; archive?: string }> }>('GET', `/api/backups/jobs/${started.json?.id}`);
      return r.json?.state === 'done' || r.json?.state === 'failed' ? r.json : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'backup job finished' });
    assert.equal(job.state, 'done', JSON.stringify(job));
    assert.equal(job.outcomes?.[0]?.ok, true);
    assert.equal((await api('GET', '/api/backups/jobs/b-nope')).status, 404);
    assert.equal((await api('POST', '/api/backups', { names: ['nobody'] })).status, 404);

    const listed = await api<{ backups: Array<{ user: string; archive: string }> }>('GET', '/api/backups?name=alice');
    assert.equal(listed.json?.backups.length, 1);
    type Row = { lastBackup?: { ok: boolean; time: string; ageSeconds: number } };
    const first = (await api<{ users: Row[] }>('GET', '/api/status')).json?.users[0]?.lastBackup;
    assert.equal(first?.ok, true);

    // The schedule fires (node-cron replaced), backs up every user and records it for status.
    assert.ok(fire !== undefined, 'the daemon scheduled backups');
    await new Promise((r) => setTimeout(r, 1100));
    fire();
    await waitFor(async () => daemon.scheduler?.running === false && (await api<{ users: Row[] }>('GET', '/api/status')).json?.users[0]?.lastBackup?.time !== first?.time, { timeoutMs: 30_000, intervalMs: 200, what: 'scheduled backup recorded' });
    // A backup asked for through the API is the admin's own: the nightly
    // series is kept apart and never prunes it.
    const after = await api<{ backups: Array<{ archive: string; kind?: string }> }>('GET', '/api/backups?name=alice');
    assert.equal(after.json?.backups.length, 2, JSON.stringify(after.json));
    assert.deepEqual(after.json?.backups.map((b) => b.kind).sort(), ['manual', 'scheduled']);
    assert.ok(after.json?.backups.some((b) => b.archive === listed.json?.backups[0]?.archive), 'the manual archive is kept');
  });

  await t.test('remove with purge takes the container, the data and the backups away', async () => {
    const r = await api<{ containers: string[]; purged: boolean }>('DELETE', '/api/users/alice?purge=true&yes=true');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json?.purged, true);
    assert.equal(r.json?.containers.length, 1);
    assert.ok(!existsSync(`${viaApi.root}/users/alice`) && !existsSync(`${viaApi.root}/backups/alice`));
    assert.deepEqual((await api<{ users: unknown[] }>('GET', '/api/status')).json?.users, []);
    await waitFor(() => daemon.routes?.states().has('alice') === false, { timeoutMs: 3000, what: 'alice unrouted' });
  });
});
