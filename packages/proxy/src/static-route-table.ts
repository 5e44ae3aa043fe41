// The simplest RouteSource: a host -> route map the daemon replaces wholesale,
// so a request never sees half of an update.
import { OcmError, quote } from '@ocm/core';
import { isHostName } from './host-header.js';
import { isLoopbackRoute, type Route, type RouteSource } from './route-source.js';

export class StaticRouteTable implements RouteSource {
  #routes: ReadonlyMap<string, Route> = new Map();

  constructor(routes: Iterable<readonly [host: string, route: Route]> = []) {
    this.set(routes);
  }

  resolve(host: string): Route | undefined {
    return this.#routes.get(host);
  }

  /** Replaces the whole table at once; refuses tables that could cross users. */
  set(routes: Iterable<readonly [host: string, route: Route]>): void {
    const next = new Map<string, Route>();
    const portOwner = new Map<number, string>();
    for (const [rawHost, route] of routes) {
      const host = rawHost.toLowerCase();
      if (!isHostName(host)) throw invalid(`route host ${quote(rawHost)} is not a host name`);
      if (next.has(host)) throw invalid(`route host ${quote(host)} is listed twice`);
      if (!isLoopbackRoute(route)) throw invalid(`route for ${quote(host)} must target 127.0.0.1 on a valid port`);
      const owner = portOwner.get(route.port);
      if (owner !== undefined && owner !== route.user) {
        throw invalid(`port ${route.port} is claimed by both ${quote(owner)} and ${quote(route.user)}`);
      }
      portOwner.set(route.port, route.user);
      next.set(host, Object.freeze({ ...route }));
    }
    this.#routes = next;
  }

  get size(): number {
    return this.#routes.size;
  }
}

function invalid(message: string): OcmError {
  return new OcmError('OCM_E_INTERNAL', message);
}
