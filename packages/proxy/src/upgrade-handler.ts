// WebSocket upgrades are handled here rather than by @fastify/http-proxy: its
// websocket mode accepts the client's handshake before dialing the upstream
// (so a stopped gateway can't answer 503), re-frames every message (dropping
// the gateway's subprotocol/extension choice, the Origin and forwarding
// headers, and backpressure) and closes sockets without 1001 on shutdown. A
// raw pipe chosen per request from the same route lookup as HTTP avoids all that.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { clientAddressOf, isHopByHop, upstreamRequestHeaders } from './forward-headers.js';
import { badHostPage, errorPage, notConfiguredPage, notRunningPage, rawHttpResponse, type ProxyPage } from '@ocm/core';
import { lookupRoute } from './route-lookup.js';
import type { Route, RouteSource } from './route-source.js';
import type { TunnelRegistry } from './tunnel-registry.js';
import { WebSocketTunnel } from './websocket-tunnel.js';

export interface UpgradeHandlerOptions {
  routes: RouteSource;
  tunnels: TunnelRegistry;
  proto: 'http' | 'https';
  localClientAddress: string | undefined;
  logger: FastifyBaseLogger;
  /** How long the gateway may take to answer the handshake. */
  handshakeTimeoutMs: number;
  isDraining(): boolean;
}

export type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createUpgradeHandler(options: UpgradeHandlerOptions): UpgradeListener {
  return (request, socket, head) => {
    socket.on('error', (err) => options.logger.debug({ err }, 'client socket error during upgrade'));
    if (options.isDraining()) return reject(socket, errorPage(503, 'The proxy is shutting down.'));
    if (!isWebSocketUpgrade(request)) return reject(socket, errorPage(400, 'Only WebSocket upgrades are proxied.'));
    let found;
    try {
      found = lookupRoute(options.routes, request.headers.host);
    } catch (err) {
      options.logger.error({ err }, 'route lookup failed');
      return reject(socket, errorPage(500, 'The proxy could not look this host up.'));
    }
    switch (found.kind) {
      case 'bad-host':
        return reject(socket, badHostPage());
      case 'unknown':
        return reject(socket, notConfiguredPage(found.host));
      case 'down':
        return reject(socket, notRunningPage(found.host));
      case 'up':
        return dial(options, found.host, found.route, request, socket, head);
    }
  };
}

function dial(
  options: UpgradeHandlerOptions,
  host: string,
  route: Route,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const context = {
    clientAddress: clientAddressOf(request.socket.remoteAddress),
    proto: options.proto,
    localClientAddress: options.localClientAddress,
  };
  const upstreamRequest = httpRequest({
    host: route.upstreamHost,
    port: route.port,
    method: request.method,
    path: request.url,
    headers: upstreamRequestHeaders(request.headers, context, { upgrade: true }),
    agent: false,
    timeout: options.handshakeTimeoutMs,
  });
  let answered = false;
  const onClientGone = (): void => {
    if (!answered) upstreamRequest.destroy();
  };
  socket.once('close', onClientGone);

  upstreamRequest.on('upgrade', (response: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
    answered = true;
    socket.off('close', onClientGone);
    if (socket.destroyed) return upstream.destroy();
    // The registry may already have said goodbye to every tunnel; a late one would outlive close().
    if (options.isDraining()) {
      upstream.destroy();
      return reject(socket, errorPage(503, 'The proxy is shutting down.'));
    }
    socket.write(responseHead(response, false));
    options.tunnels.add(new WebSocketTunnel(route.user, socket, upstream, head, upstreamHead));
  });
  upstreamRequest.on('response', (response: IncomingMessage) => {
    // The gateway refused the upgrade (bad origin, auth...): relay its answer as is.
    answered = true;
    socket.write(responseHead(response, true));
    response.pipe(socket);
    response.once('end', () => destroyLater(socket));
  });
  upstreamRequest.on('timeout', () => upstreamRequest.destroy(new HandshakeTimeout()));
  upstreamRequest.on('error', (err: NodeJS.ErrnoException) => {
    if (answered) return socket.destroy();
    answered = true;
    options.logger.warn({ err, user: route.user }, 'websocket upstream failed');
    if (err instanceof HandshakeTimeout) return reject(socket, errorPage(504, 'The assistant did not answer in time.'));
    if (err.code === 'ECONNREFUSED') return reject(socket, notRunningPage(host));
    reject(socket, errorPage(502, 'The assistant closed the connection.'));
  });
  upstreamRequest.end();
}

function isWebSocketUpgrade(request: IncomingMessage): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket' && (request.url ?? '').startsWith('/');
}

function reject(socket: Duplex, page: ProxyPage): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(rawHttpResponse(page));
  destroyLater(socket);
}

/** A client that never closes its side must not hold the connection (and a draining close()) open. */
function destroyLater(socket: Duplex): void {
  setTimeout(() => socket.destroy(), 5_000).unref();
}

/** The upstream's status line and headers; a refused upgrade is sent close-delimited. */
function responseHead(response: IncomingMessage, closeDelimited: boolean): string {
  const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}`];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (closeDelimited && isHopByHop(name)) continue;
    lines.push(`${name}: ${raw[i + 1] ?? ''}`);
  }
  if (closeDelimited) lines.push('connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

class HandshakeTimeout extends Error {
  override readonly name = 'HandshakeTimeout';
}
