// One answer to "can alice use it?", shared by status, doctor, the admin API
// and the status page: /healthz first (the process is up), then a browser's
// first request as ocm's proxies forward it (the gateway still trusts them).
import { userHost, userOrigin, type Manifest } from '@ocm/core';
import { httpHealthProbe, httpUiProbe, refusesBrowsers, type HealthProbe, type UiProbe } from '@ocm/engine';

export interface Usable {
  /** refusing: /healthz answers but browsers get a refusal (the gateway's error type in detail). */
  health: 'healthy' | 'refusing' | 'unhealthy';
  detail: string;
}

export interface UsableProbes { health: HealthProbe; ui: UiProbe }

export const defaultProbes = (timeoutMs = 1500): UsableProbes => ({ health: httpHealthProbe(timeoutMs), ui: httpUiProbe(timeoutMs) });

export async function probeUsable(manifest: Manifest, name: string, hostPort: number, probes: UsableProbes = defaultProbes()): Promise<Usable> {
  const health = await probes.health(hostPort);
  if (!health.ok) return { health: 'unhealthy', detail: `/healthz: ${health.detail}` };
  const proto = userOrigin(manifest, name).startsWith('https:') ? 'https' : 'http';
  const ui = await probes.ui({ hostPort, host: userHost(manifest, name), proto });
  if (ui.ok) return { health: 'healthy', detail: 'the Control UI is served' };
  if (refusesBrowsers(ui)) return { health: 'refusing', detail: `up, but refusing browsers: ${ui.detail}` };
  // A slow or reset page load is not a verdict on its own: /healthz said up.
  return { health: 'healthy', detail: `/healthz ok; the Control UI did not answer in time (${ui.detail})` };
}

/** What an admin does about a refusing gateway, by its error type. */
export function usableFix(name: string, detail: string): string {
  if (detail.includes('proxy_attribution_required')) {
    return `ocm up ${name} merges the proxy's address back into gateway.trustedProxies in users/${name}/state/openclaw.json; the gateway reloads it on its own`;
  }
  return `ocm logs ${name}; ocm up ${name} merges ocm's keys back into users/${name}/state/openclaw.json`;
}
