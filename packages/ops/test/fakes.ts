// In-memory stand-ins for the two host seams ops drives (Docker and the
// firewall), so its flows run as unit tests: they keep the state a real
// engine would (names, ids, states, networks, chains) and refuse what a real
// one refuses (a taken name, a missing container), and a test can make
// Docker refuse a create.
import { LABEL_MANAGED, OcmError, type ContainerSpec, type HostCapacity, type NetworkSpec } from '@ocm/core';
import type {
  ContainerDetails, ContainerEngine, ContainerStatsSnapshot, EnsureNetworkResult, ExecResult, HardeningFinding, ListOptions, ObservedContainer,
} from '@ocm/engine';
import type { Iptables } from '@ocm/netpolicy';
import type { Readable } from 'node:stream';

interface FakeContainer { details: ContainerDetails; networks: string[] }

const missing = (name: string): OcmError => new OcmError('OCM_E_CONTAINER_MISSING', `container "${name}" does not exist`);

export class FakeEngine implements ContainerEngine {
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, NetworkSpec>();
  /** Every call that changes something, in order: "create ocm-alice", "stop ocm-alice", ... */
  readonly calls: string[] = [];
  /** Makes Docker refuse a create (e.g. a memory limit it cannot give); the message is Docker's. */
  refuseCreate: ((spec: ContainerSpec) => string | undefined) | undefined;
  /** This many pauses fail (the cgroup freezer timing out on a busy host), then they work again. */
  failPauses = 0;
  capacityOf: HostCapacity = { cpus: 4, memoryBytes: 16 * 1024 ** 3 };
  private nextId = 1;

  ping(): Promise<void> { return Promise.resolve(); }
  capacity(): Promise<HostCapacity> { return Promise.resolve(this.capacityOf); }

  ensureNetwork(spec: NetworkSpec): Promise<EnsureNetworkResult> {
    const had = this.networks.has(spec.name);
    if (!had) this.calls.push(`network ${spec.name}`);
    this.networks.set(spec.name, spec);
    return Promise.resolve({ id: `net-${spec.name}`, name: spec.name, action: had ? 'exists' : 'created' });
  }

  assertSubnetFree(): Promise<string[]> { return Promise.resolve([]); }

  removeNetworkIfUnused(name: string): Promise<boolean> {
    const used = [...this.containers.values()].some((c) => c.networks.includes(name));
    if (used || !this.networks.delete(name)) return Promise.resolve(false);
    this.calls.push(`rm-network ${name}`);
    return Promise.resolve(true);
  }

  create(spec: ContainerSpec, network: NetworkSpec): Promise<string> {
    const refusal = this.refuseCreate?.(spec);
    if (refusal !== undefined) return Promise.reject(new OcmError('OCM_E_DOCKER_FAILED', refusal));
    if (this.containers.has(spec.name)) return Promise.reject(new OcmError('OCM_E_DOCKER_FAILED', `Conflict. The container name "/${spec.name}" is already in use`));
    const id = `c${this.nextId++}`;
    this.calls.push(`create ${spec.name}`);
    this.containers.set(spec.name, {
      networks: [network.name],
      details: {
        id, name: spec.name, image: spec.image, imageId: `sha256:${spec.image}`, state: 'created', exitCode: 0, oomKilled: false,
        startedAt: '0001-01-01T00:00:00Z', restartCount: 0, health: undefined, labels: { ...spec.labels },
        hostPorts: { [`${spec.containerPort}/tcp`]: [String(spec.hostPort)] },
      },
    });
    return Promise.resolve(id);
  }

  start(name: string): Promise<void> { return this.set(name, 'start', 'running'); }
  stop(name: string): Promise<void> { return this.set(name, 'stop', 'exited'); }
  restart(name: string): Promise<void> { return this.set(name, 'restart', 'running'); }
  pause(name: string): Promise<void> {
    if (this.failPauses > 0) {
      this.failPauses -= 1;
      this.calls.push(`pause-failed ${name}`);
      return Promise.reject(new OcmError('OCM_E_DOCKER_FAILED', `Cannot pause container ${name}: unable to freeze`));
    }
    return this.set(name, 'pause', 'paused');
  }
  unpause(name: string): Promise<void> { return this.set(name, 'unpause', 'running'); }

  remove(name: string): Promise<void> {
    const c = this.get(name);
    this.containers.delete(c.details.name);
    this.calls.push(`remove ${c.details.name}`);
    return Promise.resolve();
  }

  rename(name: string, newName: string): Promise<void> {
    const c = this.get(name);
    if (this.containers.has(newName)) return Promise.reject(new OcmError('OCM_E_DOCKER_FAILED', `Conflict. The container name "/${newName}" is already in use`));
    this.containers.delete(c.details.name);
    this.calls.push(`rename ${c.details.name} ${newName}`);
    c.details = { ...c.details, name: newName };
    this.containers.set(newName, c);
    return Promise.resolve();
  }

  find(name: string): Promise<ContainerDetails | undefined> {
    const c = this.lookup(name);
    return Promise.resolve(c === undefined ? undefined : { ...c.details, labels: { ...c.details.labels } });
  }

  hardening(name: string): Promise<HardeningFinding[]> {
    this.get(name);
    return Promise.resolve([]);
  }

  list(options: ListOptions = {}): Promise<ObservedContainer[]> {
    const wanted = { [LABEL_MANAGED]: '1', ...(options.labels ?? {}) };
    const rows = [...this.containers.values()]
      .filter((c) => Object.entries(wanted).every(([k, v]) => c.details.labels[k] === v))
      .map(({ details: d, networks }) => ({
        id: d.id, name: d.name, user: d.labels['ocm.user'], root: d.labels['ocm.root'], specHash: d.labels['ocm.spec-hash'],
        image: d.image, state: d.state, labels: { ...d.labels }, networks: [...networks],
      }));
    return Promise.resolve(rows);
  }

  logs(name: string, options: { follow: true }): Promise<Readable>;
  logs(name: string, options?: { follow?: false }): Promise<string>;
  logs(name: string): Promise<Readable | string> {
    this.get(name);
    return Promise.resolve('');
  }

  stats(name: string): Promise<ContainerStatsSnapshot> {
    this.get(name);
    return Promise.resolve({ cpuPercent: 1, memoryBytes: 100 * 1024 ** 2, memoryLimitBytes: 2 * 1024 ** 3, pids: 10, pidsLimit: 512 });
  }

  exec(name: string): Promise<ExecResult> {
    this.get(name);
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }

  imageExists(): Promise<boolean> { return Promise.resolve(true); }
  imageId(image: string): Promise<string | undefined> { return Promise.resolve(`sha256:${image}`); }
  pullImage(): Promise<void> { return Promise.resolve(); }

  /** The running container of that name, for assertions. */
  state(name: string): string | undefined { return this.containers.get(name)?.details.state; }

  private lookup(name: string): FakeContainer | undefined {
    return this.containers.get(name) ?? [...this.containers.values()].find((c) => c.details.id === name);
  }

  private get(name: string): FakeContainer {
    const c = this.lookup(name);
    if (c === undefined) throw missing(name);
    return c;
  }

  private set(name: string, verb: string, state: ContainerDetails['state']): Promise<void> {
    const c = this.lookup(name);
    if (c === undefined) return Promise.reject(missing(name));
    this.calls.push(`${verb} ${c.details.name}`);
    c.details = { ...c.details, state, ...(state === 'running' && verb !== 'unpause' ? { startedAt: new Date().toISOString() } : {}) };
    return Promise.resolve();
  }
}

/** The filter table as chains of rules, with iptables' own refusals. */
export class FakeIptables implements Iptables {
  readonly chains = new Map<string, string[][]>([['INPUT', []], ['DOCKER-USER', []]]);

  hasChain(chain: string): Promise<boolean> { return Promise.resolve(this.chains.has(chain)); }
  rules(chain: string): Promise<string[][]> { return Promise.resolve((this.chains.get(chain) ?? []).map((r) => [...r])); }

  newChain(chain: string): Promise<void> {
    if (this.chains.has(chain)) return Promise.reject(new Error(`iptables: Chain ${chain} already exists.`));
    this.chains.set(chain, []);
    return Promise.resolve();
  }

  deleteChain(chain: string): Promise<void> {
    const jumped = [...this.chains.values()].some((rules) => rules.some((r) => r.at(-1) === chain));
    if ((this.chains.get(chain)?.length ?? 1) > 0 || jumped) return Promise.reject(new Error(`iptables: cannot delete ${chain}`));
    this.chains.delete(chain);
    return Promise.resolve();
  }

  insert(chain: string, position: number, rule: readonly string[]): Promise<void> {
    this.chainOf(chain).splice(position - 1, 0, [...rule]);
    return Promise.resolve();
  }

  append(chain: string, rule: readonly string[]): Promise<void> {
    this.chainOf(chain).push([...rule]);
    return Promise.resolve();
  }

  delete(chain: string, rule: readonly string[]): Promise<void> {
    const rules = this.chainOf(chain);
    const at = rules.findIndex((r) => r.join(' ') === rule.join(' '));
    if (at < 0) return Promise.reject(new Error('iptables: Bad rule (does a matching rule exist in that chain?).'));
    rules.splice(at, 1);
    return Promise.resolve();
  }

  /** Chains of this project, e.g. ['OCM-ocm-FWD', 'OCM-ocm-IN']. */
  ours(project: string): string[] { return [...this.chains.keys()].filter((c) => c.startsWith(`OCM-${project}-`)).sort(); }

  private chainOf(chain: string): string[][] {
    const rules = this.chains.get(chain);
    if (rules === undefined) throw new Error(`iptables: No chain/target/match by that name (${chain}).`);
    return rules;
  }
}
