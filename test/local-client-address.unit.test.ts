import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseLocalClientAddress, defaultRouteInterface } from '@ocm/store';

const v4 = (address: string, internal = false) => ({ address, family: 'IPv4' as const, internal });

test('a local browser stands for the address of the default route, else docker0, never loopback or a user bridge', () => {
  const interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.168.1.20')], docker0: [v4('172.17.0.1')], 'br-abc': [v4('10.231.0.1')] };
  assert.equal(chooseLocalClientAddress(interfaces, 'eth0'), '192.168.1.20');
  assert.equal(chooseLocalClientAddress(interfaces, undefined), '172.17.0.1');
  assert.equal(chooseLocalClientAddress({ lo: [v4('127.0.0.1', true)], 'br-abc': [v4('10.231.0.1')], wlan0: [v4('10.0.0.5')] }, 'missing'), '10.0.0.5');
  assert.equal(chooseLocalClientAddress({ lo: [v4('127.0.0.1', true)], 'br-abc': [v4('10.231.0.1')] }, undefined), undefined);
});

test('the default route is read from /proc/net/route', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
  ].join('\n');
  assert.equal(defaultRouteInterface(table), 'eth0');
  assert.equal(defaultRouteInterface(table.split('\n').slice(0, 2).join('\n')), undefined);
});
