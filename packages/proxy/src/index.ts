export type { Route, RouteSource } from './route-source.js';
export { isLoopbackRoute } from './route-source.js';
export { StaticRouteTable } from './static-route-table.js';
export { parseHostHeader, isHostName } from './host-header.js';
export { lookupRoute, type RouteLookup } from './route-lookup.js';
export {
  upstreamRequestHeaders,
  withoutHopByHop,
  clientAddressOf,
  isLoopbackAddress,
  type ForwardContext,
  forwardedClient,
} from './forward-headers.js';
export { buildProxy, type BuildProxyOptions, type BuiltProxy, type SniLookup } from './build-proxy.js';
export {
  createEmbeddedProxy,
  type EmbeddedProxy,
  type EmbeddedProxyOptions,
  type ProxyListenOptions,
  type ProxyAddress,
} from './embedded-proxy.js';
export { NginxApplier, type NginxApplierOptions, type NginxApplyResult } from './nginx-applier.js';
export { createNginxControl, type NginxControl, type NginxCommandOptions } from './nginx-control.js';
export { parseNginxError, type NginxDiagnostic } from './nginx-error.js';
export { MANAGED_MARKER, isManagedContent } from './managed-files.js';
