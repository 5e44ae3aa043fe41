// The swarm service ocm creates is the one `docker stack deploy` makes of the
// rendered stack file (the real check is test/swarm/stack-deploy.test.ts);
// here its pure parts: the spec, the relay, the state, the doctor's findings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest, planDeployment } from '@ocm/core';
import { RELAY_SCRIPT, relayCreateOptions, relayName, serviceHardening, serviceState, specToService } from '@ocm/engine';

const manifest = parseManifest('settings:\n  engine: swarm\n  project: fam\nusers:\n  - {name: alice, port: 18800, node: n1, cpus: 1.5, memory: 1g, pids: 256}\n');
const [alice] = planDeployment(manifest, { root: '/opt/ocm', envFiles: new Map() }).users;
if (alice === undefined) throw new Error('no plan');

test('a user\'s service: her limits, dropped capabilities, init, user, node pin, own overlay, no published port', () => {
  const spec = specToService(alice.container, { OPENCLAW_GATEWAY_TOKEN: 's3cret', TZ: 'Europe/Paris' }, alice.network, { replicas: 1 });
  assert.equal(spec.Name, 'fam_alice');
  assert.equal(spec.Labels['ocm.spec-hash'], alice.specHash);
  assert.equal(spec.Labels['com.docker.stack.namespace'], 'fam');
  const c = spec.TaskTemplate.ContainerSpec;
  assert.deepEqual(c.Args, alice.container.command);
  assert.equal(c.User, '1000:1000');
  assert.equal(c.Init, true);
  assert.deepEqual(c.CapabilityDrop, ['ALL']);
  assert.deepEqual(c.Privileges, { NoNewPrivileges: true });
  // Sorted, spec.env over the env file, as the docker CLI makes them of env_file and environment.
  assert.ok(c.Env.includes('TZ=UTC') && !c.Env.includes('TZ=Europe/Paris') && c.Env.includes('OPENCLAW_GATEWAY_TOKEN=s3cret'));
  assert.deepEqual(c.Env, [...c.Env].sort());
  assert.deepEqual(c.Mounts.map((m) => m.Source), ['/opt/ocm/users/alice/state', '/opt/ocm/users/alice/config']);
  assert.deepEqual(spec.TaskTemplate.Resources.Limits, { NanoCPUs: 1_500_000_000, MemoryBytes: 2 ** 30, Pids: 256 });
  assert.deepEqual(spec.TaskTemplate.Placement, { Constraints: ['node.hostname == n1'] });
  assert.deepEqual(spec.TaskTemplate.Networks, [{ Target: 'fam-alice', Aliases: ['alice'] }]);
  assert.deepEqual(spec.EndpointSpec, { Mode: 'dnsrr' });
  assert.equal(spec.EndpointSpec.Ports, undefined, 'nothing published on any node');
  assert.deepEqual(spec.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(specToService(alice.container, {}, alice.network, { replicas: 0 }).Mode, { Replicated: { Replicas: 0 } });
});

test('her relay: on her overlay at the trusted address, 127.0.0.1 only, hardened, piping to her service', () => {
  const relay = relayCreateOptions(alice.container, alice.network);
  assert.equal(relay.name, 'fam_alice.relay');
  assert.equal(relayName('fam_alice'), 'fam_alice.relay');
  assert.deepEqual(relay.HostConfig?.PortBindings, { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: '18800' }] });
  assert.deepEqual(relay.NetworkingConfig?.EndpointsConfig, { 'fam-alice': { IPAMConfig: { IPv4Address: '10.231.0.14' } } });
  assert.equal(alice.network.gateway, '10.231.0.14', 'the address her gateway trusts');
  assert.deepEqual(relay.Env, ['OCM_RELAY_TARGET=fam_alice', 'OCM_RELAY_PORT=18789']);
  assert.deepEqual(relay.Cmd, ['-e', RELAY_SCRIPT]);
  assert.equal(relay.HostConfig?.ReadonlyRootfs, true);
  assert.deepEqual(relay.HostConfig?.CapDrop, ['ALL']);
  assert.deepEqual(relay.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(relay.Labels?.['ocm.role'], 'relay');
  assert.equal(relay.Labels?.['ocm.user'], 'alice');
  assert.notEqual(relay.Labels?.['ocm.spec-hash'], alice.specHash, 'the relay has its own hash');
  // An upgrade (a new image) keeps the relay and its connections.
  const upgraded = relayCreateOptions({ ...alice.container, image: 'other:tag' }, alice.network);
  assert.equal(upgraded.Labels?.['ocm.spec-hash'], relay.Labels?.['ocm.spec-hash']);
  const moved = relayCreateOptions({ ...alice.container, hostPort: 18801 }, alice.network);
  assert.notEqual(moved.Labels?.['ocm.spec-hash'], relay.Labels?.['ocm.spec-hash']);
});

const task = (state: string, desired: string) => ({ id: 't', nodeId: 'n', state, desired, containerId: undefined, exitCode: 0, error: '', updatedAt: '', timestamp: '' });

test('a service\'s state in a container\'s words', () => {
  assert.equal(serviceState(0, []), 'exited');
  assert.equal(serviceState(0, [task('shutdown', 'shutdown')]), 'exited');
  assert.equal(serviceState(0, [task('running', 'running')]), 'removing', 'scaled to 0, task not stopped yet');
  assert.equal(serviceState(1, [task('running', 'running')]), 'running');
  assert.equal(serviceState(1, [task('starting', 'running'), task('failed', 'shutdown')]), 'restarting');
  assert.equal(serviceState(1, []), 'restarting');
});

test('doctor on a swarm: enforced checks pass, what the engine cannot enforce is a warning that says so', () => {
  const spec = specToService(alice.container, {}, alice.network, { replicas: 1 });
  // What Engine 20.10 keeps: no Privileges.NoNewPrivileges.
  delete spec.TaskTemplate.ContainerSpec.Privileges;
  const findings = serviceHardening(spec, 'Docker Engine 20.10.24 (API 1.41)', alice, { '18789/tcp': ['18800'] });
  const failed = findings.filter((f) => !f.ok).map((f) => f.check);
  assert.deepEqual(failed, []);
  const warned = findings.filter((f) => f.warn === true);
  assert.deepEqual(warned.map((f) => f.check), ['no-new-privileges', 'memory-swap']);
  assert.match(warned[0]?.detail ?? '', /^not enforced: Docker Engine 20\.10\.24 \(API 1\.41\) kept no no-new-privileges/);
  assert.ok(warned.every((f) => (f.fix ?? '').length > 0));
  const kept = serviceHardening(specToService(alice.container, {}, alice.network, { replicas: 1 }), 'e', alice, { '18789/tcp': ['18800'] });
  assert.equal(kept.find((f) => f.check === 'no-new-privileges')?.warn, undefined, 'an engine that keeps it passes');
  // Published on every node, or unpinned: failures.
  const open = { ...spec, EndpointSpec: { Mode: 'dnsrr' as const, Ports: [{ PublishedPort: 18800 }] }, TaskTemplate: { ...spec.TaskTemplate, Placement: {} } };
  const bad = serviceHardening(open, 'e', alice, {}).filter((f) => !f.ok).map((f) => f.check);
  assert.deepEqual(bad, ['no-published-port', 'relay-published', 'placement']);
});
