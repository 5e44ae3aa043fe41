// The real daemon (admin API, status page, embedded proxy) in this process
// against a test root, its log kept in memory, stopped when the test ends.
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { DockerEngine } from '@ocm/engine';
import { buildDaemon, createDaemonLogger, type Daemon, type DaemonAddresses, type DaemonOptions } from '@ocm/daemon';

export interface RunningDaemon { daemon: Daemon; addresses: DaemonAddresses; token: string; logs: string[] }

export async function startDaemon(t: TestContext, root: string, options: Partial<DaemonOptions> = {}): Promise<RunningDaemon> {
  const logs: string[] = [];
  const logger = createDaemonLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const daemon = await buildDaemon({ root, engine: new DockerEngine(), logger, healthIntervalMs: 1000, drainGraceMs: 500, ...options });
  t.after(() => daemon.stop());
  const addresses = await daemon.start({ admin: { host: '127.0.0.1', port: 0 } });
  return { daemon, addresses, token: readFileSync(`${root}/admin.token`, 'utf8').trim(), logs };
}
