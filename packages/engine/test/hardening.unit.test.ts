import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { inspectHardening, specToCreateOptions } from '@ocm/engine';
import { userSpec } from './factory.js';

const user = userSpec({ id: 'thard', root: '/opt/ocm' }, 'alice', { hostPort: 18801 });

/** What `docker inspect` reports for a container created from the spec. */
function inspected(edit: (info: Docker.ContainerInspectInfo) => void = () => {}): Docker.ContainerInspectInfo {
  const options = specToCreateOptions(user.container, {}, user.network);
  const info = {
    Config: { User: options.User, Labels: options.Labels },
    HostConfig: structuredClone(options.HostConfig),
    Mounts: [],
    NetworkSettings: { Ports: { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: '18801' }] } },
  } as unknown as Docker.ContainerInspectInfo;
  edit(info);
  return info;
}

const failed = (info: Docker.ContainerInspectInfo): string[] =>
  inspectHardening(info, user).filter((f) => !f.ok).map((f) => f.check);

test('a container made from the spec passes every check', () => {
  const findings = inspectHardening(inspected(), user);
  assert.deepEqual(findings.filter((f) => !f.ok), []);
  assert.ok(findings.length >= 14);
});

test('each weakening is reported by its own check', () => {
  const cases: Array<[string, (i: Docker.ContainerInspectInfo) => void]> = [
    ['ports-loopback-only', (i) => { i.NetworkSettings.Ports['18789/tcp'] = [{ HostIp: '0.0.0.0', HostPort: '18801' }]; }],
    ['cap-drop-all', (i) => { i.HostConfig.CapAdd = ['NET_ADMIN']; }],
    ['no-new-privileges', (i) => { i.HostConfig.SecurityOpt = []; }],
    ['init', (i) => { i.HostConfig.Init = false; }],
    ['not-privileged', (i) => { i.HostConfig.Privileged = true; }],
    ['no-docker-socket', (i) => { i.HostConfig.Binds = ['/var/run/docker.sock:/var/run/docker.sock']; }],
    ['pids-limit', (i) => { i.HostConfig.PidsLimit = 4096; }],
    ['memory-limit', (i) => { i.HostConfig.Memory = 1; i.HostConfig.MemorySwap = 1; }],
    ['memory-swap', (i) => { i.HostConfig.MemorySwap = -1; }],
    ['cpu-limit', (i) => { i.HostConfig.NanoCpus = 0; }],
    ['restart-policy', (i) => { i.HostConfig.RestartPolicy = { Name: 'no' }; }],
    ['no-host-namespaces', (i) => { i.HostConfig.PidMode = 'host'; }],
    ['user', (i) => { i.Config.User = ''; }],
  ];
  for (const [check, edit] of cases) assert.deepEqual(failed(inspected(edit)), [check], check);
  assert.deepEqual(failed(inspected((i) => { i.HostConfig.NetworkMode = 'host'; })), ['network-mode']);
});

test('without an expected spec, limits only need to exist', () => {
  assert.deepEqual(inspectHardening(inspected((i) => { i.HostConfig.PidsLimit = 4096; })).filter((f) => !f.ok), []);
  const unlimited = inspectHardening(inspected((i) => { i.HostConfig.PidsLimit = 0; i.HostConfig.NanoCpus = 0; }));
  assert.deepEqual(unlimited.filter((f) => !f.ok).map((f) => f.check), ['pids-limit', 'cpu-limit']);
});
