// Per-user subnets and the overlap check add's preflight uses to refuse a
// subnet another Docker network holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrsOverlap, ipv4Range, subnetFor } from '@ocm/core';

test('subnetFor gives consecutive /28s of the pool, gateway first, the relay\'s address last', () => {
  assert.deepEqual(subnetFor('10.231.0.0/16', 0), { cidr: '10.231.0.0/28', gateway: '10.231.0.1', last: '10.231.0.14' });
  assert.deepEqual(subnetFor('10.231.0.0/16', 17), { cidr: '10.231.1.16/28', gateway: '10.231.1.17', last: '10.231.1.30' });
  assert.deepEqual(subnetFor('10.231.0.0/16', 4095), { cidr: '10.231.255.240/28', gateway: '10.231.255.241', last: '10.231.255.254' });
  assert.throws(() => subnetFor('10.231.0.0/16', 4096), { code: 'OCM_E_PORTS_EXHAUSTED' });
});

test('ipv4Range reads IPv4 CIDRs and nothing else', () => {
  assert.deepEqual(ipv4Range('10.231.0.0/28'), [0x0ae70000, 0x0ae7000f]);
  assert.deepEqual(ipv4Range('172.17.0.1/16'), [0xac110000, 0xac11ffff], 'host bits are masked');
  assert.deepEqual(ipv4Range('0.0.0.0/0'), [0, 0xffffffff]);
  for (const junk of ['fd00::/64', '10.0.0.0', '10.0.0.256/24', '10.0.0.0/33', '']) assert.equal(ipv4Range(junk), undefined, junk);
});

test('cidrsOverlap', () => {
  assert.equal(cidrsOverlap('10.231.0.0/16', '10.231.4.16/28'), true, 'a /16 holds its /28s');
  assert.equal(cidrsOverlap('10.231.0.0/28', '10.231.0.16/28'), false, 'neighbouring /28s');
  assert.equal(cidrsOverlap('10.231.0.0/28', '10.232.0.0/16'), false);
  assert.equal(cidrsOverlap('fd00::/64', '10.0.0.0/8'), false);
  // Property: overlap is symmetric and agrees with a scan over the smaller range.
  const cidr = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 20, max: 30 }))
    .map(([c, d, bits]) => `10.9.${c}.${d}/${bits}`);
  fc.assert(fc.property(cidr, cidr, (a, b) => {
    const [a0, a1] = ipv4Range(a)!;
    const [b0, b1] = ipv4Range(b)!;
    let shared = false;
    for (let x = a0; x <= a1 && !shared; x++) shared = x >= b0 && x <= b1;
    return cidrsOverlap(a, b) === shared && cidrsOverlap(b, a) === shared;
  }), { numRuns: 500 });
});
