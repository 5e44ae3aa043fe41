// Assembles the embedded proxy as a fastify app (not yet listening): host
// routing, the HTTP forwarder, the WebSocket upgrade path and the proxy's own pages.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { SecureContext } from 'node:tls';
import { parseHostHeader } from './host-header.js';
import { registerHttpForwarder } from './http-forwarder.js';
import { badHostPage, errorPage, notConfiguredPage, notRunningPage, type ProxyPage } from '@ocm/core';
import { lookupRoute, upstreamUrl } from './route-lookup.js';
import type { Route, RouteSource } from './route-source.js';
import { TunnelRegistry } from './tunnel-registry.js';
import { createUpgradeHandler } from './upgrade-handler.js';

/** The certificate for a TLS server name, or undefined to refuse the handshake. */
export type SniLookup = (servername: string) => SecureContext | undefined;

// Browsers that once reached a user over HTTPS never fall back to plain HTTP (a year, as the nginx template says).
const HSTS = 'max-age=31536000; includeSubDomains';

export interface BuildProxyOptions {
  routes: RouteSource;
  logger?: FastifyBaseLogger;
  /**
   * HTTPS: one PEM pair for every host, or a certificate per server name
   * (SNI); a name the lookup does not know gets no handshake.
   */
  tls?: { cert: string | Buffer; key: string | Buffer } | { sni: SniLookup };
  /** Upstream idle limit for HTTP (default 1 h, like nginx's proxy_read_timeout 3600s). */
  upstreamTimeoutMs?: number;
  /** How long a gateway may take to answer a WebSocket handshake (default 30 s). */
  handshakeTimeoutMs?: number;
  /** Idle keep-alive limit between client requests (default 72 s); WebSockets are not affected. */
  keepAliveTimeoutMs?: number;
  /**
   * A non-loopback address of this host, forwarded as the client address of
   * browsers on this host (the gateway refuses a loopback one).
   */
  localClientAddress?: string | undefined;
  /** A client must send a request's headers within this (default 30 s). */
  headersTimeoutMs?: number;
  /**
   * A client must finish sending a whole request, body included, within this
   * (default 10 min). Only the arrival is bounded: a WebSocket or a response
   * streamed for hours is not, since both start after the request is complete.
   */
  requestTimeoutMs?: number;
  /**
   * Called when a user's gateway answered a forwarded request below 500:
   * proof of life, so a gateway too busy to answer its health probe in time
   * is not taken for down while it serves.
   */
  onUpstreamAnswer?: (route: Route) => void;
}

export interface BuiltProxy {
  app: FastifyInstance;
  tunnels: TunnelRegistry;
  proto: 'http' | 'https';
  /** Makes new upgrades answer 503 while the proxy shuts down. */
  startDraining(): void;
}

export async function buildProxy(options: BuildProxyOptions): Promise<BuiltProxy> {
  const proto = options.tls ? 'https' : 'http';
  const app = createApp(options);
  const tunnels = new TunnelRegistry();
  let draining = false;
  const routeOf = new WeakMap<IncomingMessage, Route>();

  app.server.on(
    'upgrade',
    createUpgradeHandler({
      routes: options.routes,
      tunnels,
      proto,
      localClientAddress: options.localClientAddress,
      logger: app.log,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
      isDraining: () => draining,
    }),
  );

  if (proto === 'https') app.addHook('onSend', async (_request, reply) => void reply.header('strict-transport-security', HSTS));

  app.addHook('onRequest', async (request, reply) => {
    // Absolute-form targets (GET http://other/...) would let the URL, not the Host header, pick the upstream.
    if (!(request.raw.url ?? '').startsWith('/')) return sendPage(reply, errorPage(400, 'Only origin-form request targets are accepted.'));
    const found = lookupRoute(options.routes, request.headers.host);
    switch (found.kind) {
      case 'bad-host':
        return sendPage(reply, badHostPage());
      case 'unknown':
        return sendPage(reply, notConfiguredPage(found.host));
      case 'down':
        return sendPage(reply, notRunningPage(found.host));
      case 'up':
        routeOf.set(request.raw, found.route);
    }
  });

  // Requests the gateway itself answered (not one of the proxy's own pages).
  const answered = new WeakSet<IncomingMessage>();
  if (options.onUpstreamAnswer !== undefined) {
    const onAnswer = options.onUpstreamAnswer;
    app.addHook('onResponse', async (request, reply) => {
      const route = routeOf.get(request.raw);
      if (route !== undefined && answered.has(request.raw) && reply.statusCode < 500) onAnswer(route);
    });
  }

  await registerHttpForwarder(app, {
    proto,
    localClientAddress: options.localClientAddress,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 3_600_000,
    upstreamOf: (request) => {
      const route = routeOf.get(request.raw);
      if (route === undefined) throw new Error('request reached the forwarder without a route');
      return upstreamUrl(route);
    },
    onUpstreamHeaders: (request) => {
      if (options.onUpstreamAnswer !== undefined) answered.add(request.raw);
    },
    onUpstreamError: (reply, error) => {
      const code = errorCode(error);
      if (code === 'ECONNREFUSED') return void sendPage(reply, notRunningPage(hostOf(reply)));
      reply.log.warn({ err: error }, 'upstream request failed');
      const status = statusOf(error);
      if (status === 504) return void sendPage(reply, errorPage(504, 'The assistant did not answer in time.'));
      sendPage(reply, errorPage(502, 'The assistant closed the connection.'));
    },
  });

  app.setNotFoundHandler((_request, reply) => sendPage(reply, errorPage(405, 'This method is not proxied.')));
  app.setErrorHandler((error, request, reply) => {
    // A malformed percent-escape in the path is the client's mistake, not the proxy's.
    const status = error instanceof URIError ? 400 : statusOf(error);
    if (status >= 500) request.log.error({ err: error }, 'proxy error');
    return sendPage(reply, errorPage(status, status >= 500 ? 'The proxy failed to handle this request.' : 'The request was refused.'));
  });

  await app.ready();
  return { app, tunnels, proto, startDraining: () => (draining = true) };
}

function createApp(options: BuildProxyOptions): FastifyInstance {
  const common = {
    // Access logs are the daemon's choice; the proxy logs only failures.
    logController: new LogController({ disableRequestLogging: true }),
    // Bounds on the client sending its request, never on the answer: without them
    // a client could hold thousands of half-sent requests open for good.
    requestTimeout: options.requestTimeoutMs ?? 600_000,
    // No idle timeout on sockets: it would also cut quiet WebSockets and streams.
    connectionTimeout: 0,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 72_000,
    return503OnClosing: true,
    // The client address used for X-Forwarded-For is always the socket's.
    trustProxy: false,
  };
  const logging = options.logger ? { loggerInstance: options.logger } : { logger: false };
  // Node checks these bounds on a timer; every second keeps a timeout within a second of its value.
  const server = { headersTimeout: options.headersTimeoutMs ?? 30_000, connectionsCheckingInterval: 1_000 };
  if (options.tls) {
    // An HTTPS fastify instance has a different type parameter but the same API for everything used here.
    const { tls } = options;
    const keys = 'sni' in tls ? { SNICallback: sniCallback(tls.sni) } : { cert: tls.cert, key: tls.key };
    return Fastify({ ...common, ...logging, https: { ...server, ...keys } });
  }
  return Fastify({ ...common, ...logging, http: server });
}

function sniCallback(lookup: SniLookup) {
  return (servername: string, callback: (err: Error | null, context?: SecureContext) => void): void => {
    const context = lookup(servername);
    if (context === undefined) callback(new Error(`no certificate for ${JSON.stringify(servername.slice(0, 100))}`));
    else callback(null, context);
  };
}

function sendPage(reply: FastifyReply, page: ProxyPage): FastifyReply {
  return reply.code(page.status).headers(page.headers).send(page.body);
}

function hostOf(reply: FastifyReply): string {
  return parseHostHeader(reply.request.headers.host) ?? '';
}

function errorCode(error: Error): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = cause?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function statusOf(error: unknown): number {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
