import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OcmError } from '@ocm/core';
import { parseEnvFile, specToCreateOptions } from '@ocm/engine';
import { userSpec } from './factory.js';

const run = { id: 'tunit', root: '/opt/ocm' };

test('specToCreateOptions mirrors the compose service exactly', () => {
  const user = userSpec(run, 'alice', { hostPort: 18801, subnet: '172.30.1.0/24', cpus: 1.5, memoryBytes: 2 * 1024 ** 3, pids: 512 });
  const options = specToCreateOptions(user.container, { OPENCLAW_GATEWAY_TOKEN: 's3cret', TZ: 'Europe/Paris' }, user.network);
  const hc = options.HostConfig!;
  assert.equal(options.name, 'ocm-tunit-alice');
  assert.equal(options.Image, 'ocm-fixture-gateway:latest');
  assert.deepEqual(options.Cmd, ['node', 'openclaw.mjs', 'gateway', '--allow-unconfigured', '--bind', 'lan', '--port', '18789']);
  assert.equal(options.User, '1000:1000');
  // spec.env wins over the env file, as compose's `environment:` wins over `env_file:`.
  assert.ok(options.Env!.includes('TZ=UTC'));
  assert.ok(!options.Env!.includes('TZ=Europe/Paris'));
  assert.ok(options.Env!.includes('OPENCLAW_GATEWAY_TOKEN=s3cret'));
  assert.deepEqual(options.Labels, user.container.labels);
  assert.equal(options.Labels['ocm.spec-hash'], user.specHash);
  assert.deepEqual(options.ExposedPorts, { '18789/tcp': {} });
  assert.deepEqual(hc.PortBindings, { '18789/tcp': [{ HostIp: '127.0.0.1', HostPort: '18801' }] });
  assert.deepEqual(hc.Binds, [
    '/opt/ocm/users/tunit-alice/state:/home/node/.openclaw:rw',
    '/opt/ocm/users/tunit-alice/config:/home/node/.config/openclaw:rw',
  ]);
  assert.equal(hc.NanoCpus, 1_500_000_000);
  assert.equal(hc.Memory, 2 * 1024 ** 3);
  assert.equal(hc.MemorySwap, hc.Memory);
  assert.equal(hc.PidsLimit, 512);
  assert.equal(hc.Init, true);
  assert.deepEqual(hc.CapDrop, ['ALL']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(hc.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.equal(hc.NetworkMode, 'ocm-tunit-alice');
  assert.equal(hc.Privileged, false);
  assert.deepEqual(options.Healthcheck, {
    Test: user.container.healthcheck.test,
    Interval: 1e9,
    Timeout: 1e9,
    Retries: 3,
    StartPeriod: 1e9,
  });
  assert.deepEqual(options.NetworkingConfig, { EndpointsConfig: { 'ocm-tunit-alice': { Aliases: ['tunit-alice'] } } });
});

test('specToCreateOptions is pure: the spec is not shared or changed', () => {
  const user = userSpec(run, 'bob', { hostPort: 18802 });
  const before = JSON.stringify(user);
  const options = specToCreateOptions(user.container, {}, user.network);
  options.Cmd!.push('--evil');
  options.Labels!['x'] = 'y';
  assert.equal(JSON.stringify(user), before);
});

test('a read-only mount becomes :ro', () => {
  const user = userSpec(run, 'carol');
  user.container.mounts[1]!.readOnly = true;
  const binds = specToCreateOptions(user.container, {}, user.network).HostConfig!.Binds!;
  assert.match(binds[1]!, /:ro$/);
});

test('parseEnvFile reads KEY=value lines like compose env_file', () => {
  const env = parseEnvFile(
    ['# comment', '', 'OPENCLAW_GATEWAY_TOKEN=abc=def', '  OPENAI_API_KEY = "sk-1 2"', "QUOTED='x'", 'EMPTY=', 'CRLF=1\r', ''].join('\n'),
  );
  assert.deepEqual(env, { OPENCLAW_GATEWAY_TOKEN: 'abc=def', OPENAI_API_KEY: 'sk-1 2', QUOTED: 'x', EMPTY: '', CRLF: '1' });
});

test('parseEnvFile refuses malformed lines without echoing their (secret) content', () => {
  for (const bad of ['JUSTAKEY', '1BAD=x', 'BAD KEY=x']) {
    assert.throws(
      () => parseEnvFile(`OK=1\n${bad}\n`),
      (error: unknown) => error instanceof OcmError && error.code === 'OCM_E_ENV_INVALID' && /line 2/.test(error.message) && !error.message.includes(bad),
    );
  }
});
