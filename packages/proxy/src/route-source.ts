// What the proxy needs to know about one user's gateway. The daemon feeds it
// from the manifest and Docker health, and may swap it at any time.

export interface Route {
  /** The manifest user this host belongs to. */
  user: string;
  /** Host port the user's gateway is published on (127.0.0.1 only). */
  port: number;
  upstreamHost: '127.0.0.1';
  /** 'down' answers 503 without touching the upstream. */
  state: 'up' | 'down';
}

/** Looks a normalized host name (lowercase, no port, no trailing dot) up. */
export interface RouteSource {
  resolve(host: string): Route | undefined;
}

/** True when a route may be used as a load target: loopback and a real port. */
export function isLoopbackRoute(route: Route): boolean {
  return (
    route.upstreamHost === '127.0.0.1' &&
    Number.isInteger(route.port) &&
    route.port > 0 &&
    route.port < 65536
  );
}
