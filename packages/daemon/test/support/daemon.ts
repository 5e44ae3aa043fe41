// Starts the real daemon in this process against a test root, with its log
// kept in memory (and shown when a test fails), and stops it at the end.
import type { TestContext } from 'node:test';
import { DockerEngine } from '@ocm/engine';
import { buildDaemon, createDaemonLogger, type Daemon, type DaemonAddresses, type DaemonOptions, type ListenOverrides } from '@ocm/daemon';

export interface RunningDaemon {
  daemon: Daemon;
  addresses: DaemonAddresses;
  /** http://127.0.0.1:<admin port> */
  admin: string;
  logs: string[];
  token: string;
}

export async function startDaemon(t: TestContext, root: string, options: Partial<DaemonOptions> = {}, listen: ListenOverrides = {}): Promise<RunningDaemon> {
  const logs: string[] = [];
  const logger = createDaemonLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const daemon = await buildDaemon({ root, engine: new DockerEngine(), logger, healthIntervalMs: 1000, drainGraceMs: 500, ...options });
  t.after(async () => {
    await daemon.stop();
    if (process.env.OCM_TEST_DAEMON_LOGS === '1') process.stderr.write(logs.join(''));
  });
  const addresses = await daemon.start({ admin: { host: '127.0.0.1', port: 0 }, ...listen });
  const token = (await import('node:fs')).readFileSync(`${root}/admin.token`, 'utf8').trim();
  return { daemon, addresses, admin: addresses.admin.url, logs, token };
}
