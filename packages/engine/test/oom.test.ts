// Limits are real: a user who blows through their memory limit is OOM-killed
// and brought back by the restart policy, while a neighbour keeps answering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyReconcile, planReconcile, waitHealthy } from '@ocm/engine';
import { httpJson, waitFor } from '../../../test/support/wait.js';
import { dockerTestContext } from './docker-support.js';
import { makeUser } from './factory.js';

const ctx = dockerTestContext();

test('a memory hog is OOM-killed and restarted while another user keeps answering', async () => {
  const hog = await makeUser(ctx.run, 'hog', { memoryBytes: 128 * 1024 ** 2, env: { OCM_FIXTURE_CHAOS: '1' } });
  const calm = await makeUser(ctx.run, 'calm');
  const outcomes = await applyReconcile(ctx.engine, planReconcile([hog, calm], []), { health: { timeoutMs: 20_000, intervalMs: 250 } });
  assert.ok(outcomes.every((o) => o.ok), outcomes.map((o) => o.error?.message).join('; '));
  const hogId = (await ctx.docker.getContainer(hog.container.name).inspect()).Id;

  const events = await ctx.docker.getEvents({ filters: { container: [hogId], event: ['oom', 'die', 'start'] } });
  const seen: Array<{ status: string; exitCode?: string }> = [];
  events.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { status: string; Actor: { Attributes: Record<string, string> } };
      seen.push({ status: e.status, ...(e.Actor.Attributes.exitCode ? { exitCode: e.Actor.Attributes.exitCode } : {}) });
    }
  });
  const calmUrl = `http://127.0.0.1:${calm.container.hostPort}/healthz`;
  let calmFailures = 0;
  let calmChecks = 0;
  try {
    // The hog's connection dies with it; either way is fine.
    await httpJson(`http://127.0.0.1:${hog.container.hostPort}/fixture/hog?mb=400`, { method: 'POST', timeoutMs: 15_000 }).catch(() => undefined);
    await waitFor(
      async () => {
        calmChecks++;
        if ((await httpJson<{ ok?: boolean }>(calmUrl, { timeoutMs: 2_000 }).catch(() => undefined))?.json?.ok !== true) calmFailures++;
        const info = await ctx.docker.getContainer(hog.container.name).inspect();
        return info.RestartCount >= 1 && seen.some((e) => e.status === 'oom') && seen.some((e) => e.status === 'start');
      },
      { what: 'hog OOM-killed and restarted', timeoutMs: 30_000, intervalMs: 250 },
    );
  } finally {
    (events as unknown as { destroy(): void }).destroy();
  }
  assert.ok(seen.some((e) => e.status === 'die' && e.exitCode === '137'), JSON.stringify(seen));
  const info = await ctx.docker.getContainer(hog.container.name).inspect();
  assert.equal(info.Id, hogId, 'restarted in place by the restart policy, not recreated');
  await waitHealthy(ctx.engine, hog, { timeoutMs: 20_000, intervalMs: 250 });
  assert.equal(calmFailures, 0, `calm failed ${calmFailures} of ${calmChecks} checks`);
});
