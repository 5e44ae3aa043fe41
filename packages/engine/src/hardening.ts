// `ocm doctor` re-checks what upstream's own supervisor asserts, from what
// Docker reports rather than from what we asked for.
import type Docker from 'dockerode';
import type { HardeningExpectation as Expected, HardeningFinding } from './engine-types.js';
type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined;

/** Pure: one finding per check, ok or not. Without `expected`, limits only need to be set. */
export function inspectHardening(info: Docker.ContainerInspectInfo, expected?: Expected): HardeningFinding[] {
  const h = info.HostConfig;
  const limits = expected?.container.limits;
  const findings: HardeningFinding[] = [];
  const add = (check: string, ok: boolean, detail: string): void => {
    findings.push({ check, ok, detail });
  };

  const bound = [...bindings(h.PortBindings as Bindings), ...bindings(info.NetworkSettings?.Ports)];
  const exposed = bound.filter((b) => b.HostIp !== '127.0.0.1');
  add('ports-loopback-only', exposed.length === 0,
    exposed.length === 0 ? `${bound.length} binding(s), all on 127.0.0.1` : `published beyond loopback: ${exposed.map(show).join(', ')}`);
  if (expected) {
    const port = `${expected.container.containerPort}/tcp`;
    const mine = (h.PortBindings as Bindings)?.[port] ?? [];
    const want = String(expected.container.hostPort);
    add('port-published', mine.some((b) => b.HostPort === want), `${port} -> ${mine.map(show).join(', ') || 'nothing'} (want 127.0.0.1:${want})`);
  }
  const capDrop = ((h.CapDrop ?? []) as string[]).map((c) => c.toUpperCase());
  const capAdd = (h.CapAdd ?? []) as string[];
  add('cap-drop-all', capDrop.includes('ALL') && capAdd.length === 0, `CapDrop=${JSON.stringify(h.CapDrop ?? [])} CapAdd=${JSON.stringify(capAdd)}`);
  const secOpt = (h.SecurityOpt ?? []) as string[];
  add('no-new-privileges', secOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)), `SecurityOpt=${JSON.stringify(secOpt)}`);
  add('init', h.Init === true, `Init=${String(h.Init)}`);
  add('not-privileged', h.Privileged !== true, `Privileged=${String(h.Privileged ?? false)}`);
  add('no-host-namespaces', h.PidMode !== 'host' && h.IpcMode !== 'host' && h.UsernsMode !== 'host',
    `PidMode=${h.PidMode || '-'} IpcMode=${h.IpcMode || '-'} UsernsMode=${h.UsernsMode || '-'}`);
  const sockets = [...(h.Binds ?? []), ...(info.Mounts ?? []).map((m) => `${m.Source}:${m.Destination}`)].filter((m) => /docker\.sock/.test(m));
  add('no-docker-socket', sockets.length === 0, sockets.length === 0 ? 'docker.sock not mounted' : `mounted: ${sockets.join(', ')}`);
  add('network-mode', expected ? h.NetworkMode === expected.network.name : !['host', 'none', ''].includes(h.NetworkMode ?? ''),
    `NetworkMode=${h.NetworkMode ?? '-'}${expected ? ` (want ${expected.network.name})` : ''}`);
  add('restart-policy', h.RestartPolicy?.Name === 'unless-stopped', `RestartPolicy=${h.RestartPolicy?.Name ?? '-'}`);
  limit(add, 'pids-limit', h.PidsLimit, limits?.pids);
  limit(add, 'memory-limit', h.Memory, limits?.memoryBytes);
  add('memory-swap', (h.MemorySwap ?? 0) === (h.Memory ?? 0) && (h.Memory ?? 0) > 0, `MemorySwap=${h.MemorySwap ?? 0} Memory=${h.Memory ?? 0}`);
  const nanoCpus = h.NanoCpus || (h.CpuQuota && h.CpuPeriod ? Math.round((h.CpuQuota / h.CpuPeriod) * 1e9) : 0);
  limit(add, 'cpu-limit', nanoCpus, limits === undefined ? undefined : Math.round(limits.cpus * 1e9));
  if (expected) add('user', info.Config.User === expected.container.user, `User=${info.Config.User || 'root'} (want ${expected.container.user})`);
  return findings;
}

function limit(add: (check: string, ok: boolean, detail: string) => void, check: string, actual: number | undefined, want: number | undefined): void {
  const value = actual ?? 0;
  add(check, want === undefined ? value > 0 : value === want, `${value}${want === undefined ? '' : ` (want ${want})`}`);
}

function bindings(ports: Bindings): Array<{ HostIp?: string; HostPort?: string }> {
  return Object.values(ports ?? {}).flatMap((list) => list ?? []);
}

function show(b: { HostIp?: string; HostPort?: string }): string {
  return `${b.HostIp || '0.0.0.0'}:${b.HostPort ?? '?'}`;
}
