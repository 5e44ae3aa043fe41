// One answer to "can alice use it?", shared by status, doctor, the admin API
// and the status page: /healthz first (the process is up), then a browser's
// first request through the configured proxy (the daemon's or nginx), as her
// browser makes it. When that proxy does not answer at all, the same request
// goes to the gateway as ocm's proxies forward it, and the detail says the
// proxy is not there.
import { parseListen, userHost, userOrigin, type Manifest } from '@ocm/core';
import {
  httpHealthProbe, httpProxyUiProbe, httpUiProbe, refusesBrowsers,
  type HealthProbe, type ProxyTarget, type ProxyUiProbe, type UiProbe,
} from '@ocm/engine';

export interface Usable {
  /** refusing: /healthz answers but browsers get a refusal (the gateway's error type in detail). */
  health: 'healthy' | 'refusing' | 'unhealthy';
  detail: string;
}

export interface UsableProbes { health: HealthProbe; ui: UiProbe; proxy?: ProxyUiProbe }

export const defaultProbes = (timeoutMs = 1500): UsableProbes => ({ health: httpHealthProbe(timeoutMs), ui: httpUiProbe(timeoutMs), proxy: httpProxyUiProbe(timeoutMs) });

/** Pure: where a browser on this host reaches the users, by the manifest's proxy settings. */
export function proxyTarget(manifest: Manifest): ProxyTarget {
  const { proxy, tls } = manifest.settings;
  const secure = tls.certificate !== undefined && tls.key !== undefined;
  const local = (host: string): string => (host === '' || host === '0.0.0.0' || host === '*' ? '127.0.0.1' : host === '::' ? '::1' : host.replace(/^\[(.*)\]$/, '$1'));
  if (proxy.mode === 'nginx') return { address: local(proxy.nginx.listenAddress), port: secure ? proxy.nginx.httpsPort : proxy.nginx.httpPort, tls: secure };
  // With ACME the embedded proxy serves browsers on listenTls; listen only redirects there.
  const acme = tls.acme !== undefined && !secure && proxy.listenTls !== undefined;
  const listen = acme ? parseListen(proxy.listenTls ?? '', 'settings.proxy.listenTls') : parseListen(proxy.listen, 'settings.proxy.listen');
  return { address: local(listen.host), port: listen.port, tls: secure || acme };
}

/** Pure: the proxy as an admin would type it. */
export const proxyUrl = (target: ProxyTarget): string => `${target.tls ? 'https' : 'http'}://${target.address.includes(':') ? `[${target.address}]` : target.address}:${target.port}`;

export async function probeUsable(manifest: Manifest, name: string, hostPort: number, probes: UsableProbes = defaultProbes()): Promise<Usable> {
  const health = await probes.health(hostPort);
  if (!health.ok) return { health: 'unhealthy', detail: `/healthz: ${health.detail}` };
  const host = userHost(manifest, name);
  let note = '';
  if (probes.proxy !== undefined) {
    const target = proxyTarget(manifest);
    const via = await probes.proxy(target, host);
    if (via.ok) return { health: 'healthy', detail: `the Control UI is served through the proxy (${proxyUrl(target)})` };
    if (refusesBrowsers(via)) return { health: 'refusing', detail: `up, but refusing browsers: ${via.detail}` };
    if (/^HTTP 5\d\d/.test(via.detail)) return { health: 'refusing', detail: `up, but the proxy (${proxyUrl(target)}) answers ${host} with ${via.detail}` };
    note = via.unreachable === true ? `; the proxy (${proxyUrl(target)}) does not answer (${via.detail})` : `; the proxy (${proxyUrl(target)}) gave ${via.detail}`;
  }
  const proto = userOrigin(manifest, name).startsWith('https:') ? 'https' : 'http';
  const ui = await probes.ui({ hostPort, host, proto });
  if (ui.ok) return { health: 'healthy', detail: `the Control UI is served${note}` };
  if (refusesBrowsers(ui)) return { health: 'refusing', detail: `up, but refusing browsers: ${ui.detail}${note}` };
  // A slow or reset page load is not a verdict on its own: /healthz said up.
  return { health: 'healthy', detail: `/healthz ok; the Control UI did not answer in time (${ui.detail})${note}` };
}

/** What an admin does about a refusing gateway, by its error type. */
export function usableFix(name: string, detail: string): string {
  if (/the proxy \(.*\) answers/.test(detail)) {
    return `the proxy has no working route to ${name}: \`ocm doctor\` checks it; \`ocm render\` rewrites nginx's files, and a restart of \`ocm daemon\` reloads its routes`;
  }
  if (detail.includes('proxy_attribution_required')) {
    return `ocm up ${name} merges the proxy's address back into gateway.trustedProxies in users/${name}/state/openclaw.json; the gateway reloads it on its own`;
  }
  return `ocm logs ${name}; ocm up ${name} merges ocm's keys back into users/${name}/state/openclaw.json`;
}
