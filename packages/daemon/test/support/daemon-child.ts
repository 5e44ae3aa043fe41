// `ocm daemon` as its own process for signal tests: runDaemon exactly as the
// CLI calls it, printing its addresses as one JSON line when it is up.
import { DockerEngine } from '@ocm/engine';
import { createDaemonLogger, runDaemon } from '@ocm/daemon';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: daemon-child.ts <root>');
await runDaemon({
  root,
  engine: new DockerEngine(),
  logger: createDaemonLogger({ level: 'info' }),
  drainGraceMs: 1000,
  listen: { admin: { host: '127.0.0.1', port: 0 } },
  onStarted: (addresses) => process.stdout.write(`${JSON.stringify(addresses)}\n`),
});
