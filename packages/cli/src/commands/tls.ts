// ocm tls: each user host's ACME certificate (issuer, expiry, days left, last
// error) read from the root, and `ocm tls renew`, which asks the running
// daemon: only it answers the CA's challenges on the HTTP port.
import type { Command } from 'commander';
import { OcmError, userHost } from '@ocm/core';
import { readAdminToken } from '@ocm/store';
import type { HostStatus } from '@ocm/acme';
import { opsContext } from '../context.js';
import { json, table } from '../format.js';
import type { Io } from '../io.js';

const acmeLib = () => import('@ocm/acme');

function render(hosts: HostStatus[]): string {
  if (hosts.length === 0) return 'no enabled users, so no certificates';
  return table(['HOST', 'ISSUER', 'NOT AFTER', 'DAYS LEFT', 'LAST ERROR'],
    hosts.map((h) => [h.host, h.issuer ?? '-', h.notAfter ?? '-', h.daysLeft === undefined ? '-' : String(h.daysLeft), h.lastError ?? '-']));
}

async function listHosts(root: string, hosts: string[]): Promise<HostStatus[]> {
  const { createCertStore, readStatusFile } = await acmeLib();
  const store = createCertStore(root);
  const recorded = new Map((await readStatusFile(root))?.hosts.map((h) => [h.host, h]));
  const now = Date.now();
  return Promise.all(hosts.map(async (host): Promise<HostStatus> => {
    const cert = await store.read(host);
    const last = recorded.get(host);
    return {
      host,
      ...(cert === undefined ? {} : { issuer: cert.issuer, notAfter: new Date(cert.notAfter).toISOString(), daysLeft: Math.floor((cert.notAfter - now) / 86_400_000), serial: cert.serial }),
      ...(last?.lastError === undefined ? {} : { lastError: last.lastError }),
      ...(last?.nextAttempt === undefined ? {} : { nextAttempt: last.nextAttempt }),
    };
  }));
}

async function askDaemon(root: string, listen: string, body: { names: string[]; force: boolean }): Promise<HostStatus[]> {
  const token = await readAdminToken(root);
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  const host = listen.slice(0, listen.lastIndexOf(':'));
  const url = `http://${['', '*', '0.0.0.0', '[::]'].includes(host) ? '127.0.0.1' : host}:${port}/api/tls/renew`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new OcmError('OCM_E_ACME_FAILED', `the daemon does not answer on ${listen} (settings.admin.listen)`, { cause: err, hint: 'certificates are ordered by the daemon; start it with `ocm daemon` (or its systemd unit) and retry' });
  }
  const answer = (await res.json()) as { hosts?: HostStatus[]; error?: { code?: string; message?: string; hint?: string } };
  if (!res.ok || answer.hosts === undefined) {
    throw new OcmError('OCM_E_ACME_FAILED', `the daemon refused the renewal: ${answer.error?.message ?? `HTTP ${res.status}`}`, answer.error?.hint === undefined ? {} : { hint: answer.error.hint });
  }
  return answer.hosts;
}

export function registerTlsCommands(program: Command, io: Io): void {
  const tls = program.command('tls')
    .description("list each user host's ACME certificate: issuer, expiry, days left and last error")
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { manifest } = await ctx.root.load();
      if (manifest.settings.tls.acme === undefined) {
        throw new OcmError('OCM_E_USAGE', 'ACME is not configured in ocm.yaml', { hint: 'set settings.tls.acme.email (and settings.proxy.listenTls) to have certificates issued and renewed' });
      }
      const hosts = await listHosts(ctx.root.path, manifest.users.filter((u) => u.enabled).map((u) => userHost(manifest, u.name)));
      io.out(opts.json === true ? json({ hosts }) : render(hosts));
    });
  tls.command('renew')
    .description('order certificates now through the running daemon: those due, or all named with --force')
    .argument('[names...]', 'user names (default: every enabled user)')
    .option('--force', 'renew even certificates that are not due')
    .option('--json', 'machine-readable output')
    .action(async (names: string[], opts: { force?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = opsContext(cmd, io);
      const { manifest } = await ctx.root.load();
      const hosts = await askDaemon(ctx.root.path, manifest.settings.admin.listen, { names, force: opts.force === true });
      io.out(opts.json === true ? json({ hosts }) : render(hosts));
      const failed = hosts.find((h) => h.lastError !== undefined);
      if (failed?.lastError !== undefined) throw new OcmError('OCM_E_ACME_FAILED', failed.lastError);
    });
}
