import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeGatewayConfig } from '@ocm/core';

const keys = { allowedOrigins: ['https://alice.example.com'], trustedProxies: ['10.231.0.1'] };

test('creates the keys in a missing file', () => {
  const out = mergeGatewayConfig(undefined, keys);
  assert.deepEqual(JSON.parse(out as string), { gateway: { controlUi: { allowedOrigins: ['https://alice.example.com'] }, trustedProxies: ['10.231.0.1'] } });
});

test('keeps what the user and the gateway wrote (JSON5 in, every other key out)', () => {
  const existing = `// my config\n{ agents: { default: 'x' }, gateway: { port: 18789, controlUi: { allowedOrigins: ['https://other.example'], theme: 'dark' }, trustedProxies: ['192.0.2.1'], }, }`;
  const out = JSON.parse(mergeGatewayConfig(existing, keys) as string) as {
    agents: unknown;
    gateway: { port: number; controlUi: { theme: string; allowedOrigins: string[] }; trustedProxies: string[] };
  };
  assert.deepEqual(out.agents, { default: 'x' });
  assert.equal(out.gateway.port, 18789);
  assert.equal(out.gateway.controlUi.theme, 'dark');
  assert.deepEqual(out.gateway.controlUi.allowedOrigins, ['https://other.example', 'https://alice.example.com']);
  assert.deepEqual(out.gateway.trustedProxies, ['192.0.2.1', '10.231.0.1']);
});

test('is idempotent: a second merge changes nothing', () => {
  const once = mergeGatewayConfig(undefined, keys) as string;
  assert.equal(mergeGatewayConfig(once, keys), undefined);
});

test('refuses to clobber a file it cannot read', () => {
  assert.throws(() => mergeGatewayConfig('{ not json', keys), { code: 'OCM_E_GATEWAY_CONFIG_INVALID' });
});
