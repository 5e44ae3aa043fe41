// Starting a container proves nothing; wait until the gateway answers, but
// give up when it exits or keeps restarting, and show why from its log.
import { setTimeout as sleep } from 'node:timers/promises';
import { OcmError, quote, type UserDeployment } from '@ocm/core';
import { lastLines } from './demux.js';
import { noSuchContainer } from './docker-errors.js';
import type { ContainerDetails, ContainerReader } from './engine-types.js';
import { httpHealthProbe, type HealthProbe } from './health-probe.js';

export interface HealthProgress {
  user: string;
  elapsedMs: number;
  /** Docker's State.Status. */
  state: string;
  /** The last probe's answer, e.g. ECONNREFUSED. */
  detail: string;
}

export interface WaitHealthyOptions {
  timeoutMs?: number;
  /** The longest pause between probes (default 1000 ms); the first ones come sooner. */
  intervalMs?: number;
  onProgress?: (progress: HealthProgress) => void;
  probe?: HealthProbe;
  /**
   * Restarts tolerated while starting (default 2). The real gateway gives up
   * its start when its state lease is not ready within 5 s, which a busy host
   * (many gateways starting after a reboot) hits now and then; the restart
   * policy's next try usually comes up. A gateway that fails every time still
   * fails fast: Docker's backoff makes three tries take a few seconds.
   */
  maxRestarts?: number;
  /** Stop waiting when this aborts (the command was interrupted): throws OCM_E_INTERRUPTED. */
  signal?: AbortSignal;
}

function interrupted(user: UserDeployment): OcmError {
  return new OcmError('OCM_E_INTERRUPTED', `interrupted while waiting for the gateway of ${quote(user.name)}`, { details: { user: user.name } });
}

/** Pure: a reason to stop waiting because the container is not going to answer, or undefined. */
export function crashReason(info: ContainerDetails, baselineRestarts: number, maxRestarts = 0): string | undefined {
  const exit = `exit code ${info.exitCode}${info.oomKilled ? ', OOM-killed' : ''}`;
  const restarts = info.restartCount - baselineRestarts;
  if (info.state === 'exited' || info.state === 'dead') return `container exited (${exit})`;
  if (restarts > maxRestarts) return `container restarted ${restarts} time${restarts === 1 ? '' : 's'} while starting (last ${exit})`;
  if (info.state === 'restarting' && restarts >= maxRestarts) return `container is restarting (last ${exit})`;
  if (info.state === 'created') return 'container was never started';
  if (info.state === 'paused') return 'container is paused';
  if (info.state === 'removing') return 'container is being removed';
  return undefined;
}

/**
 * Pure: the pause before probe number `attempt` (0-based): 20 ms, growing by
 * 15 % each time, at most `maxMs`. A small gateway answers 0.1-0.3 s after
 * its start returned; gaps of 40-50 ms there (not 70-90 ms, as from 50 ms
 * growing by a fifth) let `ocm add` notice it sooner. The gaps stay under
 * 0.25 s through the first second and reach 1 s after about 6.5 s, so 50
 * gateways starting at once still cost only a few probes a second each.
 */
export function probeDelay(attempt: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(20 * 1.15 ** Math.min(attempt, 60)));
}

/**
 * Probes /healthz soon and then less often (a gateway is often up within a few
 * hundred ms, a real one within seconds), and asks Docker about a crash at
 * most once a second: 50 gateways starting at once must not flood dockerd.
 */
export async function waitHealthy(engine: ContainerReader, user: UserDeployment, options: WaitHealthyOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, intervalMs = 1000, onProgress, maxRestarts = 2, signal } = options;
  const probe = options.probe ?? httpHealthProbe(Math.min(2000, timeoutMs));
  const name = user.container.name;
  const started = Date.now();
  let baseline: number | undefined;
  let detail = 'not probed yet';
  let state = 'unknown';
  let inspectedAt = -Infinity;
  for (let attempt = 0; ; attempt += 1) {
    if (signal?.aborted === true) throw interrupted(user);
    if (Date.now() - inspectedAt >= 1000) {
      const info = await engine.find(name);
      if (info === undefined) throw noSuchContainer(name);
      inspectedAt = Date.now();
      state = info.state;
      baseline ??= info.restartCount;
      const crashed = crashReason(info, baseline, maxRestarts);
      if (crashed) throw await unhealthy(engine, user, crashed, detail);
    }
    const result = await probe(user.container.hostPort);
    if (result.ok) return;
    detail = result.detail;
    const elapsedMs = Date.now() - started;
    onProgress?.({ user: user.name, elapsedMs, state, detail });
    if (elapsedMs >= timeoutMs) {
      throw await unhealthy(engine, user, `no healthy answer on 127.0.0.1:${user.container.hostPort}/healthz within ${timeoutMs} ms (last answer: ${detail})`, detail, true);
    }
    await sleep(Math.min(probeDelay(attempt, intervalMs), Math.max(0, timeoutMs - elapsedMs)), undefined, signal === undefined ? {} : { signal }).catch(() => {
      throw interrupted(user);
    });
  }
}

async function unhealthy(engine: ContainerReader, user: UserDeployment, reason: string, lastProbe: string, unanswered = false): Promise<OcmError> {
  const logTail = lastLines(await engine.logs(user.container.name, { tail: 20 }).catch(() => ''), 20);
  const excerpt = logTail.slice(-3).join(' | ').slice(0, 300);
  return new OcmError(
    'OCM_E_UNHEALTHY',
    `gateway of ${quote(user.name)} is not healthy: ${reason}${excerpt ? `; log: ${excerpt}` : ''}`,
    {
      hint: `read the full log with \`ocm logs ${user.name}\`${unanswered ? '; `ocm doctor` checks its port and the firewall' : ''}`,
      details: { user: user.name, container: user.container.name, reason, lastProbe, logTail },
    },
  );
}
