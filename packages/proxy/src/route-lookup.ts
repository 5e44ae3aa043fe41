// One decision shared by plain requests and WebSocket upgrades: which route a
// Host header selects, and whether it may be forwarded.
import { parseHostHeader } from './host-header.js';
import { isLoopbackRoute, type Route, type RouteSource } from './route-source.js';

export type RouteLookup =
  | { kind: 'bad-host' }
  | { kind: 'unknown'; host: string }
  | { kind: 'down'; host: string; route: Route }
  | { kind: 'up'; host: string; route: Route };

export function lookupRoute(routes: RouteSource, hostHeader: string | undefined): RouteLookup {
  const host = parseHostHeader(hostHeader);
  if (host === undefined) return { kind: 'bad-host' };
  const route = routes.resolve(host);
  // A source that hands out a non-loopback target is treated as not configured: never a load target.
  if (route === undefined || !isLoopbackRoute(route)) return { kind: 'unknown', host };
  return route.state === 'up' ? { kind: 'up', host, route } : { kind: 'down', host, route };
}

export function upstreamUrl(route: Route): string {
  return `http://${route.upstreamHost}:${route.port}`;
}
