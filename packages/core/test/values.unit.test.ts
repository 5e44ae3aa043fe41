// Property tests for the values humans type: names, sizes, CPUs, env.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  OcmError, assertUserName, nameProblem, parseSize, formatSize, parseCpus, parsePids, parseEnvAssignment, RESERVED_NAMES,
} from '@ocm/core';

const validName = fc.stringMatching(/^[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,10}){0,2}$/).filter((n) => n.length <= 32 && !RESERVED_NAMES.has(n));

test('valid DNS-label names are accepted unchanged', () => {
  fc.assert(fc.property(validName, (name) => assert.equal(assertUserName(name), name)), { numRuns: 2000 });
});

test('any string is either a safe DNS label or refused with a coded error', () => {
  fc.assert(fc.property(fc.string({ maxLength: 40, unit: 'binary' }), (name) => {
    try {
      assertUserName(name);
      assert.match(name, /^[a-z][a-z0-9-]{0,31}$/);
      assert.ok(!name.endsWith('-') && !name.includes('--'));
    } catch (error) {
      assert.ok(error instanceof OcmError);
      assert.ok(error.code === 'OCM_E_NAME_INVALID' || error.code === 'OCM_E_NAME_RESERVED');
      assert.ok(!error.message.includes('\n'));
    }
  }), { numRuns: 3000 });
});

test('names: exact reasons', () => {
  assert.equal(nameProblem(''), 'is empty');
  assert.equal(nameProblem('a'.repeat(33)), 'is 33 characters long (at most 32)');
  assert.equal(nameProblem('1abc'), 'must start with a lowercase letter');
  assert.equal(nameProblem('ab_c'), 'may contain only lowercase letters, digits and hyphens');
  assert.equal(nameProblem('abc-'), 'must not end with a hyphen');
  assert.equal(nameProblem('a--b'), 'must not contain two hyphens in a row');
  assert.throws(() => assertUserName('www'), { code: 'OCM_E_NAME_RESERVED', message: 'user name "www" is reserved' });
});

test('sizes round-trip through their shortest exact form', () => {
  const valid = fc.oneof(
    fc.integer({ min: 6 * 1024, max: 1 << 30 }).map((n) => `${n}k`),
    fc.integer({ min: 6, max: 1 << 20 }).map((n) => `${n}m`),
    fc.integer({ min: 1, max: 1 << 10 }).map((n) => `${n}g`),
  );
  fc.assert(fc.property(valid, (text) => {
    const bytes = parseSize(text);
    assert.equal(parseSize(formatSize(bytes)), bytes);
  }), { numRuns: 2000 });
  assert.equal(parseSize('512m'), 512 * 1024 ** 2);
  assert.equal(parseSize('2g'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
  assert.equal(formatSize(1536 * 1024 ** 2), '1536m');
});

test('non-sizes are refused with the value quoted', () => {
  fc.assert(fc.property(fc.string({ maxLength: 12 }).filter((s) => !/^\s*\d+(\.\d+)?\s*[kmgt]?(i?b)?\s*$/i.test(s)), (text) => {
    assert.throws(() => parseSize(text), (e: unknown) => e instanceof OcmError && e.code === 'OCM_E_SIZE_INVALID' && e.message.startsWith('memory: "'));
  }), { numRuns: 2000 });
  assert.throws(() => parseSize('2 gigs'), { message: 'memory: "2 gigs" is not a size (use 512m or 2g)' });
  assert.throws(() => parseSize('1k'), { message: 'memory: "1k" is too small (at least 6m)' });
});

test('cpus and pids', () => {
  assert.equal(parseCpus('1.5'), 1.5);
  assert.throws(() => parseCpus('0'), { code: 'OCM_E_CPUS_INVALID' });
  assert.throws(() => parseCpus('two'), { code: 'OCM_E_CPUS_INVALID' });
  assert.throws(() => parseCpus('0.125'), { code: 'OCM_E_CPUS_INVALID' });
  assert.equal(parsePids('256'), 256);
  assert.throws(() => parsePids('3'), { code: 'OCM_E_PIDS_INVALID' });
  assert.throws(() => parsePids('1e3'), { code: 'OCM_E_PIDS_INVALID' });
});

test('env assignments cannot inject lines or override ocm variables', () => {
  assert.deepEqual(parseEnvAssignment('OPENAI_API_KEY=sk-a=b'), ['OPENAI_API_KEY', 'sk-a=b']);
  assert.throws(() => parseEnvAssignment('novalue'), { code: 'OCM_E_ENV_INVALID' });
  assert.throws(() => parseEnvAssignment('lower=x'), { code: 'OCM_E_ENV_INVALID' });
  assert.throws(() => parseEnvAssignment('OPENCLAW_GATEWAY_TOKEN=x'), { code: 'OCM_E_ENV_RESERVED' });
  fc.assert(fc.property(fc.string({ maxLength: 30, unit: 'binary' }), (value) => {
    try {
      const [, v] = parseEnvAssignment(`KEY=${value}`);
      assert.ok(!/[\n\r\0$]/.test(v));
    } catch (error) {
      assert.ok(error instanceof OcmError && error.code === 'OCM_E_ENV_INVALID');
    }
  }), { numRuns: 3000 });
});
