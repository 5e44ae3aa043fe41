// Limits checked against what Docker's host has, before anything is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcmError, assertLimitsFitHost, defaultCpusFor } from '@ocm/core';

const host = { cpus: 2, memoryBytes: 4 * 1024 ** 3 };

test('limits within the host pass, up to exactly what it has', () => {
  assertLimitsFitHost('alice', { cpus: 2, memory: '4g' }, host);
  assertLimitsFitHost('alice', { cpus: 0.5, memory: '512m' }, host);
});

test('more CPUs than the host has are refused with the number that fits', () => {
  assert.throws(() => assertLimitsFitHost('carol', { cpus: 4, memory: '1g' }, host), (e: unknown) => {
    assert.ok(e instanceof OcmError);
    assert.equal(e.code, 'OCM_E_LIMITS_EXCEED_HOST');
    assert.equal(e.message, "carol: cpus 4 is more than the 2 CPU(s) of Docker's host");
    assert.equal(e.hint, 'use --cpus 2 or less (a fraction such as 0.5 is fine)');
    return true;
  });
  assert.throws(() => assertLimitsFitHost('carol', { cpus: 2.01, memory: '1g' }, host), /cpus 2\.01/);
});

test('more memory than the host has is refused with half of it as the hint', () => {
  assert.throws(() => assertLimitsFitHost('dave', { cpus: 1, memory: '5g' }, host), (e: unknown) => {
    assert.ok(e instanceof OcmError);
    assert.equal(e.code, 'OCM_E_LIMITS_EXCEED_HOST');
    assert.equal(e.message, "dave: memory 5g is more than the 4.0 GiB of Docker's host");
    assert.equal(e.hint, 'use --memory 2048m or less');
    return true;
  });
});

test('a host that reports nothing (0) is not held against anyone', () => {
  assertLimitsFitHost('alice', { cpus: 64, memory: '1t' }, { cpus: 0, memoryBytes: 0 });
});

test('a new root gives each gateway 2 CPUs, or all of a smaller host', () => {
  assert.equal(defaultCpusFor(1), 1);
  assert.equal(defaultCpusFor(2), 2);
  assert.equal(defaultCpusFor(64), 2);
  assert.equal(defaultCpusFor(0), 2);
  assert.equal(defaultCpusFor(Number.NaN), 2);
});
