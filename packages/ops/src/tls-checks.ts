// `ocm doctor` with settings.tls.acme: each user host's certificate (expiry,
// last order's error, from the status the daemon records), its DNS when it
// resolves here, and whether ocm's HTTP and HTTPS listeners answer locally.
// With a certificate the admin brings (which wins over ACME), that one's
// checks instead of the ACME status, and the same DNS and listener checks.
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dnsVerdict, expiryVerdict, parseListen, portVerdict, userHost, type Manifest } from '@ocm/core';
import type { Finding } from './doctor.js';
import { suppliedCertChecks } from './supplied-cert-checks.js';
import { finding } from './verdict-finding.js';

/** undefined when something accepted the connection, else its error code. */
function refusal(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.once('connect', () => (socket.destroy(), resolve(undefined)));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** The host's addresses, or why not within 3 s (an offline resolver must not stall doctor). */
function resolved(host: string): Promise<string[] | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error('no answer within 3 s')), 3000)));
  const answer = lookup(host, { all: true }).then((all) => all.map((a) => a.address), (err: Error) => err);
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

/** The listeners that must answer: the embedded proxy's, or nginx's ports. */
function listeners(manifest: Manifest): Array<[string, string]> {
  const { proxy } = manifest.settings;
  if (proxy.mode === 'nginx') {
    const host = proxy.nginx.listenAddress === '' ? '127.0.0.1' : proxy.nginx.listenAddress;
    return [['settings.proxy.nginx.httpPort', `${host}:${proxy.nginx.httpPort}`], ['settings.proxy.nginx.httpsPort', `${host}:${proxy.nginx.httpsPort}`]];
  }
  return [['settings.proxy.listen', proxy.listen], ...(proxy.listenTls === undefined ? [] : [['settings.proxy.listenTls', proxy.listenTls] as [string, string]])];
}

export async function tlsChecks(root: string, manifest: Manifest, now = Date.now()): Promise<Finding[]> {
  const supplied = manifest.settings.tls.certificate !== undefined;
  if (!supplied && manifest.settings.tls.acme === undefined) return [];
  const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
  const dns = async (name: string): Promise<Finding> => {
    const host = userHost(manifest, name);
    return finding(name, 'dns', dnsVerdict(host, await resolved(host), own));
  };
  const enabled = manifest.users.filter((u) => u.enabled);
  const out: Finding[] = [];
  if (supplied) {
    // The admin's certificate wins over ACME: its own checks, then the same DNS and listener ones.
    out.push(...(await suppliedCertChecks(manifest, now)));
    for (const user of enabled) out.push(await dns(user.name));
  } else {
    const recorded = new Map(((await (await import('@ocm/acme')).readStatusFile(root).catch(() => undefined))?.hosts ?? []).map((h) => [h.host, h]));
    for (const user of enabled) {
      const host = userHost(manifest, user.name);
      const status = recorded.get(host);
      out.push(finding(user.name, 'certificate', expiryVerdict(host, status?.notAfter === undefined ? undefined : Date.parse(status.notAfter), status?.lastError, now)));
      out.push(await dns(user.name));
    }
  }
  for (const [setting, address] of listeners(manifest)) {
    const { host, port } = parseListen(address, setting);
    const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    out.push(finding('proxy', 'listening', portVerdict(setting, address, await refusal(target, port))));
  }
  return out;
}
