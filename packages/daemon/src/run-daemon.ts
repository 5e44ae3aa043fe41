// `ocm daemon` in the foreground: start, then wait for SIGTERM/SIGINT and
// drain (stop accepting, let in-flight requests finish, say 1001 to open
// WebSockets, let a running backup finish). A second signal is not caught,
// so it ends the process at once. SIGHUP re-reads ocm.yaml and the TLS
// certificate files (renewed in place). Never exits the process itself.
import { buildDaemon, type DaemonAddresses, type DaemonOptions, type ListenOverrides } from './build-daemon.js';

export interface RunDaemonOptions extends DaemonOptions {
  listen?: ListenOverrides;
  signals?: NodeJS.Signals[];
  onStarted?: (addresses: DaemonAddresses) => void;
}

export async function runDaemon(options: RunDaemonOptions): Promise<void> {
  const log = options.logger;
  const daemon = await buildDaemon(options);
  const addresses = await daemon.start(options.listen);
  log.info({
    admin: addresses.admin.url,
    proxy: addresses.proxy === undefined ? undefined : `${addresses.proxy.proto}://${addresses.proxy.host}:${addresses.proxy.port}`,
    nginxConfDir: addresses.nginxConfDir,
    users: daemon.manifest().users.length,
  }, `ocm daemon running; status page at ${addresses.admin.url}/ (sign in with \`ocm daemon token\`)`);
  options.onStarted?.(addresses);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const onHangup = (): void => {
    log.info({ signal: 'SIGHUP' }, 'reloading ocm.yaml and the TLS certificate');
    daemon.reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
  };
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const s of signals) process.off(s, onSignal);
      process.off('SIGHUP', onHangup);
      log.info({ signal }, 'stopping: draining connections');
      daemon.stop().then(
        () => log.info('ocm daemon stopped'),
        (err: unknown) => log.error({ err }, 'ocm daemon did not stop cleanly'),
      ).finally(resolve);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
