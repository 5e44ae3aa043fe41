// Plain HTTP forwarding through @fastify/http-proxy. One registration serves
// every user: the upstream is computed per request from the route the
// onRequest hook already resolved, so no request can reach another user's port.
import { fastifyHttpProxy } from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientAddressOf, upstreamRequestHeaders, withoutHopByHop } from './forward-headers.js';

export interface HttpForwarderOptions {
  /** The upstream base URL for a request whose route was resolved, e.g. http://127.0.0.1:20001. */
  upstreamOf(request: FastifyRequest): string;
  proto: 'http' | 'https';
  localClientAddress: string | undefined;
  /** Idle limit while waiting for upstream headers or body bytes (long model calls, SSE). */
  upstreamTimeoutMs: number;
  onUpstreamError(reply: FastifyReply, error: Error): void;
  /** The upstream's response head arrived for this request. */
  onUpstreamHeaders?(request: FastifyRequest): void;
}

export const PROXIED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export async function registerHttpForwarder(app: FastifyInstance, options: HttpForwarderOptions): Promise<void> {
  // Bodies must stream: without this, JSON and text bodies would be parsed and buffered.
  app.removeAllContentTypeParsers();
  await app.register(fastifyHttpProxy, {
    upstream: '',
    websocket: false,
    httpMethods: PROXIED_METHODS,
    internalRewriteLocationHeader: false,
    disableRequestLogging: true,
    destroyAgent: true,
    undici: {
      connections: 128,
      pipelining: 1,
      headersTimeout: options.upstreamTimeoutMs,
      bodyTimeout: options.upstreamTimeoutMs,
    },
    replyOptions: {
      getUpstream: (request) => options.upstreamOf(request as FastifyRequest),
      rewriteRequestHeaders: (request) =>
        upstreamRequestHeaders(request.raw.headers, {
          clientAddress: clientAddressOf(request.raw.socket.remoteAddress),
          proto: options.proto,
          localClientAddress: options.localClientAddress,
        }) as Record<string, string>,
      rewriteHeaders: (headers, request) => {
        options.onUpstreamHeaders?.(request as FastifyRequest);
        return withoutHopByHop(headers) as Record<string, string>;
      },
      onError: (reply, { error }) => options.onUpstreamError(reply as FastifyReply, error),
      // Never replay a request: a 503 from the gateway is its answer, not a reason to retry.
      retryDelay: () => null,
    },
    // The raw URL keeps the query string byte for byte (the default handler re-encodes it).
    handler: (request, reply, _dest, replyOptions) => reply.from(request.raw.url, replyOptions),
  });
}
