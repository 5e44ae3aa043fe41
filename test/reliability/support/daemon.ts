// The real daemon (admin API, status page, embedded proxy) in this process
// against a test root, its log kept in memory, stopped when the test ends.
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { DockerEngine } from '@ocm/engine';
import { buildDaemon, createDaemonLogger, type Daemon, type DaemonAddresses, type DaemonOptions } from '@ocm/daemon';

export interface RunningDaemon { daemon: Daemon; addresses: DaemonAddresses; token: string; logs: string[] }

/**
 * Stopped when `t` ends, or, given a test root's `stopFirst`, before that
 * root is taken down: a daemon still running then would put back the
 * network policy the root's cleanup just removed (its policy keeper repairs
 * missing chains), and the chains would outlive the test.
 */
export async function startDaemon(t: TestContext, root: string, options: Partial<DaemonOptions> = {}, stopFirst?: (stop: () => Promise<void>) => void): Promise<RunningDaemon> {
  const logs: string[] = [];
  const logger = createDaemonLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const daemon = await buildDaemon({ root, engine: new DockerEngine(), logger, healthIntervalMs: 1000, drainGraceMs: 500, ...options });
  if (stopFirst === undefined) t.after(() => daemon.stop());
  else stopFirst(() => daemon.stop());
  const addresses = await daemon.start({ admin: { host: '127.0.0.1', port: 0 } });
  return { daemon, addresses, token: readFileSync(`${root}/admin.token`, 'utf8').trim(), logs };
}
