// The headers a gateway sees behind the proxy: hop-by-hop ones dropped, the
// original Host kept, and forwarding headers set from the socket, never trusted
// from the client (newer gateways fail closed on ambiguous forwarding).
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 section 7.6.1 plus the legacy names proxies still see. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node answers 100-continue itself; forwarding it would make the upstream client refuse the request.
  'expect',
]);

type HeaderValue = string | string[] | number;

/** Client-supplied forwarding claims; the proxy is the only source of these. */
const SPOOFABLE = new Set(['forwarded', 'x-real-ip']);

export interface ForwardContext {
  /** The client's socket address, as the proxy saw it. */
  clientAddress: string;
  proto: 'http' | 'https';
  /**
   * A non-loopback address of this host, forwarded for a client on this host:
   * the gateway answers 403 proxy_attribution_required to a forwarded loopback
   * address and to a request with none.
   */
  localClientAddress?: string | undefined;
}

/** Request headers for the upstream; `upgrade` keeps the WebSocket handshake intact. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  context: ForwardContext,
  options: { upgrade: boolean } = { upgrade: false },
): OutgoingHttpHeaders {
  const headers = withoutHopByHop(incoming);
  for (const name of Object.keys(headers)) {
    if (SPOOFABLE.has(name) || name.startsWith('x-forwarded-')) delete headers[name];
  }
  const host = incoming.host ?? '';
  headers.host = host;
  const client = forwardedClient(context);
  headers['x-forwarded-for'] = client;
  headers['x-forwarded-proto'] = context.proto;
  headers['x-forwarded-host'] = host;
  headers['x-real-ip'] = client;
  if (options.upgrade) {
    headers.connection = 'upgrade';
    headers.upgrade = incoming.upgrade ?? 'websocket';
  }
  return headers;
}

/** The client address the gateway is told: a local client's stands in for the host's. */
export function forwardedClient(context: ForwardContext): string {
  return context.localClientAddress !== undefined && isLoopbackAddress(context.clientAddress) ? context.localClientAddress : context.clientAddress;
}

/** A copy without hop-by-hop headers, including those the Connection header names. */
export function withoutHopByHop(headers: Readonly<Record<string, HeaderValue | undefined>>): Record<string, HeaderValue> {
  const named = connectionTokens(headers.connection ?? headers.Connection);
  const out: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

/** The client's address without the IPv4-mapped IPv6 prefix Node reports on dual-stack sockets. */
export function clientAddressOf(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '';
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

export function isLoopbackAddress(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1';
}

function connectionTokens(value: unknown): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token.length > 0),
  );
}
