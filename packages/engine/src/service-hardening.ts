// `ocm doctor` on a swarm: what the service spec Docker holds says about a
// user's hardening, and what this engine cannot enforce for a service at all.
import type { HardeningExpectation as Expected, HardeningFinding } from './engine-types.js';

interface ServiceSpecView {
  TaskTemplate?: {
    ContainerSpec?: {
      User?: string;
      Init?: boolean;
      CapabilityDrop?: string[] | null;
      CapabilityAdd?: string[] | null;
      Privileges?: { NoNewPrivileges?: boolean } | null;
      Mounts?: Array<{ Source?: string; Target?: string }> | null;
    };
    Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number } };
    Networks?: Array<{ Target?: string }> | null;
    Placement?: { Constraints?: string[] | null };
  };
  EndpointSpec?: { Ports?: Array<{ PublishedPort?: number }> | null };
}

/**
 * Pure: one finding per check. `engine` names the engine in findings about
 * what it cannot enforce; relayPorts are the relay's 127.0.0.1 bindings.
 */
export function serviceHardening(spec: ServiceSpecView, engine: string, expected?: Expected, relayPorts?: Record<string, string[]>): HardeningFinding[] {
  const c = spec.TaskTemplate?.ContainerSpec ?? {};
  const limits = spec.TaskTemplate?.Resources?.Limits ?? {};
  const want = expected?.container.limits;
  const findings: HardeningFinding[] = [];
  const add = (check: string, ok: boolean, detail: string): void => {
    findings.push({ check, ok, detail });
  };
  // What this engine cannot do for a service is no fault of the user's: a warning, with what would.
  const unenforced = (check: string, detail: string, fix: string): void => {
    findings.push({ check, ok: true, warn: true, detail: `not enforced: ${detail}`, fix });
  };
  const published = spec.EndpointSpec?.Ports ?? [];
  add('no-published-port', published.length === 0,
    published.length === 0 ? 'no port published on any node; her relay on the manager carries the proxy\'s connections' : `published on every node: ${published.map((p) => p.PublishedPort).join(', ')}`);
  if (expected !== undefined) {
    const port = relayPorts?.[`${expected.container.containerPort}/tcp`] ?? [];
    add('relay-published', port.includes(String(expected.container.hostPort)), `relay -> ${port.join(', ') || 'nothing'} (want 127.0.0.1:${expected.container.hostPort})`);
  }
  const capDrop = (c.CapabilityDrop ?? []).map((x) => x.toUpperCase());
  add('cap-drop-all', capDrop.includes('ALL') && (c.CapabilityAdd ?? []).length === 0, `CapabilityDrop=${JSON.stringify(c.CapabilityDrop ?? [])} CapabilityAdd=${JSON.stringify(c.CapabilityAdd ?? [])}`);
  const nnp = c.Privileges?.NoNewPrivileges === true;
  if (nnp) add('no-new-privileges', true, 'Privileges.NoNewPrivileges=true');
  else {
    unenforced('no-new-privileges', `${engine} kept no no-new-privileges for the service (its service API has no field for it); the gateway still runs as a non-root user with every capability dropped`,
      'an engine whose service API takes ContainerSpec.Privileges.NoNewPrivileges keeps it on the next `ocm up`; or run users with settings.engine: docker');
  }
  add('init', c.Init === true, `Init=${String(c.Init)}`);
  const sockets = (c.Mounts ?? []).filter((m) => /docker\.sock/.test(`${m.Source}`));
  add('no-docker-socket', sockets.length === 0, sockets.length === 0 ? 'docker.sock not mounted' : `mounted: ${sockets.map((m) => m.Source).join(', ')}`);
  const networks = (spec.TaskTemplate?.Networks ?? []).length;
  add('network-mode', networks === 1, `${networks} network(s)${expected ? ` (want only ${expected.network.name})` : ''}`);
  limit(add, 'pids-limit', limits.Pids, want?.pids);
  limit(add, 'memory-limit', limits.MemoryBytes, want?.memoryBytes);
  unenforced('memory-swap', `a swarm service has no swap limit on ${engine}; on a node with swap the gateway may swap past its memory limit before it is OOM-killed`,
    'turn swap off on the swarm\'s nodes (swapoff -a), or run users with settings.engine: docker');
  limit(add, 'cpu-limit', limits.NanoCPUs, want === undefined ? undefined : Math.round(want.cpus * 1e9));
  if (expected !== undefined) {
    add('user', c.User === expected.container.user, `User=${c.User || 'root'} (want ${expected.container.user})`);
    if (expected.container.node !== undefined) {
      const constraints = spec.TaskTemplate?.Placement?.Constraints ?? [];
      const pinned = constraints.includes(`node.hostname == ${expected.container.node}`);
      add('placement', pinned, `constraints ${JSON.stringify(constraints)} (want node.hostname == ${expected.container.node})`);
    }
  }
  return findings;
}

function limit(add: (check: string, ok: boolean, detail: string) => void, check: string, actual: number | undefined, want: number | undefined): void {
  const value = actual ?? 0;
  add(check, want === undefined ? value > 0 : value === want, `${value}${want === undefined ? '' : ` (want ${want})`}`);
}
