// The zero-setup proxy: one listener, routing <name>.<domain> to each user's
// gateway on 127.0.0.1, with optional TLS and a graceful, draining close().
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { OcmError, quote } from '@ocm/core';
import { buildProxy, type BuildProxyOptions, type SniLookup } from './build-proxy.js';
import { createHttpsRedirectServer, type ChallengeAnswers } from './https-redirect.js';

export interface EmbeddedProxyOptions extends Omit<BuildProxyOptions, 'tls'> {
  /** PEM files; when given the proxy listens with HTTPS. */
  tls?: { certPath: string; keyPath: string };
  /** A certificate per server name instead (ACME); the table is swapped under a running listener. */
  sni?: SniLookup;
  /** HTTP-01 answers the plain-HTTP listener serves (path -> key authorization). */
  challenges?: ChallengeAnswers;
  /** How long close() lets requests and WebSockets finish before saying 1001 (default 10 s). */
  drainGraceMs?: number;
}

export interface ProxyListenOptions {
  /** Default 127.0.0.1; use 0.0.0.0 to serve other machines. */
  host?: string;
  port: number;
  /** With TLS: also listen on this port with plain HTTP and redirect to HTTPS. */
  redirectHttpPort?: number;
}

export interface ProxyAddress {
  host: string;
  port: number;
  proto: 'http' | 'https';
  redirectHttpPort?: number;
}

export interface EmbeddedProxy {
  readonly app: FastifyInstance;
  /** WebSockets currently open, per user. */
  openWebSockets(): Map<string, number>;
  listen(options: ProxyListenOptions): Promise<ProxyAddress>;
  /**
   * HTTPS only: read the certificate and key again (new paths, or renewed
   * files) and serve them to new connections; open ones keep theirs. A pair
   * that cannot be read or does not match is refused and the current one kept.
   */
  reloadTls(paths: { certPath: string; keyPath: string }): Promise<void>;
  /** Stops accepting, lets in-flight work finish, then closes WebSockets with 1001. */
  close(): Promise<void>;
}

export async function createEmbeddedProxy(options: EmbeddedProxyOptions): Promise<EmbeddedProxy> {
  const tls = options.tls ? await readTls(options.tls) : options.sni ? { sni: options.sni } : undefined;
  const built = await buildProxy({ ...options, tls });
  const graceMs = options.drainGraceMs ?? 10_000;
  let redirect: Server | undefined;
  let closing: Promise<void> | undefined;

  async function listen(listenOptions: ProxyListenOptions): Promise<ProxyAddress> {
    const host = listenOptions.host ?? '127.0.0.1';
    try {
      await built.app.listen({ host, port: listenOptions.port });
    } catch (err) {
      throw listenError(host, listenOptions.port, err);
    }
    const port = (built.app.server.address() as AddressInfo).port;
    const address: ProxyAddress = { host, port, proto: built.proto };
    if (built.proto === 'https' && listenOptions.redirectHttpPort !== undefined) {
      redirect = createHttpsRedirectServer(options.routes, () => port, options.challenges);
      try {
        redirect.listen(listenOptions.redirectHttpPort, host);
        await once(redirect, 'listening');
      } catch (err) {
        throw listenError(host, listenOptions.redirectHttpPort, err);
      }
      address.redirectHttpPort = (redirect.address() as AddressInfo).port;
    }
    return address;
  }

  async function drainAndClose(): Promise<void> {
    built.startDraining();
    redirect?.close();
    redirect?.closeAllConnections();
    const appClosed = built.app.close();
    const forceAfter = sleep(graceMs + 3_000, undefined, { ref: false }).then(() => built.app.server.closeAllConnections());
    await built.tunnels.drain(graceMs);
    await Promise.race([appClosed, forceAfter]);
    await appClosed;
  }

  async function reloadTls(paths: { certPath: string; keyPath: string }): Promise<void> {
    if (built.proto !== 'https') throw new OcmError('OCM_E_INTERNAL', 'this proxy listens with plain HTTP; switching to HTTPS needs a restart');
    const pair = await readTls(paths);
    try {
      // Checked on its own first: setSecureContext would take a mismatched pair and fail every handshake.
      createSecureContext(pair);
    } catch (err) {
      throw new OcmError('OCM_E_PROXY_LISTEN', `the TLS certificate and key do not go together (${quote(paths.certPath)}, ${quote(paths.keyPath)}): ${(err as Error).message}`, {
        cause: err,
        hint: 'point settings.tls.certificate and key at a matching pair; the previous certificate is still served',
      });
    }
    (built.app.server as unknown as TlsServer).setSecureContext(pair);
  }

  return {
    app: built.app,
    openWebSockets: () => built.tunnels.countByUser(),
    listen,
    reloadTls,
    close: () => (closing ??= drainAndClose()),
  };
}

async function readTls(paths: { certPath: string; keyPath: string }): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    return { cert: await readFile(paths.certPath), key: await readFile(paths.keyPath) };
  } catch (err) {
    throw new OcmError('OCM_E_PROXY_LISTEN', `cannot read the TLS certificate or key (${quote(paths.certPath)}, ${quote(paths.keyPath)})`, {
      cause: err,
      hint: 'check the certificate and key paths and that this user can read them',
    });
  }
}

function listenError(host: string, port: number, err: unknown): OcmError {
  const code = (err as { code?: unknown }).code;
  return new OcmError('OCM_E_PROXY_LISTEN', `cannot listen on ${host}:${port} (${typeof code === 'string' ? code : String(err)})`, {
    cause: err,
    details: { host, port },
  });
}
