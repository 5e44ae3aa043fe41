// Property tests over everything a human or a script can hand ocm's pure
// core: user names, sizes, env assignments, domains, whole manifests (as
// values and as YAML text, including bombs, huge and deeply nested files) and
// Host headers. Every case ends in a correct result or an OcmError with a
// code and a one-line message, fast; every valid manifest renders to files
// with exactly the expected structure (no injection).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  OcmError, RESERVED_ENV_KEYS, RESERVED_NAMES, assertUserName, parseEnvAssignment, parseManifest, parseSize,
  renderDeployment, serializeManifest, userHost, validateManifest, type Manifest,
} from '@ocm/core';
import { StaticRouteTable, lookupRoute, parseHostHeader } from '@ocm/proxy';
import { record } from './support/record.js';
import { checkRendered, templates } from './support/rendered.js';

const counts: Record<string, number> = {};
const count = (what: string): void => void (counts[what] = (counts[what] ?? 0) + 1);

/** A refusal must be an OcmError with a code, on one line, of a readable length. */
function assertClearError(error: unknown, codes: readonly string[], input: unknown): OcmError {
  assert.ok(error instanceof OcmError, `not an OcmError for ${safe(input)}: ${String(error)} ${(error as Error)?.stack ?? ''}`);
  assert.ok(codes.includes(error.code), `code ${error.code} for ${safe(input)}: ${error.message}`);
  assert.ok(error.message.length > 0 && !error.message.includes('\n') && !error.message.includes('\r'), `message not one line: ${JSON.stringify(error.message.slice(0, 300))}`);
  assert.ok(error.hint.length > 0, 'a hint');
  return error;
}

const safe = (v: unknown): string => {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 300);
  } catch {
    return String(v).slice(0, 300);
  }
};

/** Runs fn and fails when it takes longer than ms (a sync hang cannot be interrupted, but a slow path is caught). */
function timed<T>(ms: number, what: string, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const took = performance.now() - t0;
    assert.ok(took < ms, `${what} took ${took.toFixed(0)} ms`);
  }
}

const validName = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}$/).filter((n) => n.length <= 32 && !RESERVED_NAMES.has(n));
const anyName = fc.oneof(
  validName,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...RESERVED_NAMES),
  fc.constantFrom('A', '-a', 'a-', 'a--b', 'a'.repeat(33), 'a'.repeat(32), 'a.b', 'a b', 'a\nb', 'ａlice', 'alice\u0000', '../etc', 'a;b', '$(id)', '__proto__'),
);

test('user names: accepted exactly when they are safe DNS labels', () => {
  fc.assert(fc.property(anyName, (name) => {
    count('names');
    try {
      assert.equal(timed(1_000, 'assertUserName', () => assertUserName(name)), name);
      assert.match(name, /^[a-z][a-z0-9-]{0,31}$/);
      assert.ok(!name.endsWith('-') && !name.includes('--') && !RESERVED_NAMES.has(name));
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_NAME_INVALID', 'OCM_E_NAME_RESERVED'], name);
    }
  }), { numRuns: 2500 });
});

const sizeText = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 1 << 30 }), fc.constantFrom('', 'b', 'k', 'm', 'g', 't', 'K', 'M', 'G', 'Gi', 'GiB', 'mb', ' m')).map(([n, u]) => `${n}${u}`),
  fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom('m', 'g')).map(([n, u]) => `${n}${u}`),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('1e9', '1e9m', '0x10m', 'Infinity', 'NaN', `${'9'.repeat(30)}t`, '-1m', '1.5.5g', ' 512m ', '512 m', '5m', '6m', '8191t', '8192t', '9007199254740993', '٥١٢m', '512m\n', ''),
);

test('sizes: a byte count Docker accepts, or OCM_E_SIZE_INVALID', () => {
  fc.assert(fc.property(sizeText, (text) => {
    count('sizes');
    try {
      const bytes = timed(1_000, 'parseSize', () => parseSize(text));
      assert.ok(Number.isSafeInteger(bytes) && bytes >= 6 * 1024 ** 2, `${JSON.stringify(text)} -> ${bytes}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_SIZE_INVALID'], text);
    }
  }), { numRuns: 2000 });
});

const envKey = fc.oneof(
  fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(...RESERVED_ENV_KEYS, '__proto__', 'constructor', 'A'.repeat(129), 'a', '1A', 'A-B', 'A B', ''),
);
const envValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('a\nb', 'a\rb', 'x #y', 'x#y', '$HOME', '${X}', '"q"', "'q'", '`q`', ' lead', 'trail ', 'a\u0085#b', 'a\u2028b', 'a\u00a0#b', '\\n', 'a=b', 'é', '', 'x'.repeat(4097)),
);

test('env assignments: KEY=VALUE that every env-file reader takes literally, or a clear refusal', () => {
  fc.assert(fc.property(envKey, envValue, fc.boolean(), (key, value, withEq) => {
    count('env');
    const text = withEq ? `${key}=${value}` : `${key}${value}`;
    try {
      const [k, v] = timed(1_000, 'parseEnvAssignment', () => parseEnvAssignment(text));
      assert.equal(`${k}=${v}`, text);
      assert.match(k, /^[A-Z_][A-Z0-9_]*$/);
      assert.ok(!RESERVED_ENV_KEYS.has(k));
      // eslint-disable-next-line no-control-regex -- a NUL in the value is what must not get through
      assert.ok(!/[\n\r\u0000$]/.test(v) && !/^\s|\s$/.test(v) && !/\s#/.test(v) && !/^["'`]/.test(v), JSON.stringify(v));
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_ENV_INVALID', 'OCM_E_ENV_RESERVED'], text);
    }
  }), { numRuns: 3000 });
});

const domain = fc.oneof(
  fc.domain().map((d) => d.toLowerCase()),
  fc.constantFrom('localhost', 'example.com', 'a.b.c.d.e', 'xn--bcher-kva.example'),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('Example.com', 'a..b', '-a.com', 'a-.com', `${'a'.repeat(64)}.com`, 'x.com;', 'x.com\n', 'x.com { }', 'x.com include /etc/passwd', '*.x.com', 'x.com:80', 'x_y.com', '', `${'a.'.repeat(120)}com`),
);

const tokenFor = (name: string): string => `tok-${name}-${'x'.repeat(8)}`;

function renderChecked(manifest: Manifest): void {
  const tokens = new Map(manifest.users.map((u) => [u.name, tokenFor(u.name)]));
  const rendered = timed(2_000, 'renderDeployment', () => renderDeployment(manifest, { root: '/opt/ocm', tokens, templates }));
  checkRendered(manifest, rendered, tokens);
  // The manifest ocm writes back reads back the same (undefined fields, which no file can hold, aside).
  assert.deepEqual(parseManifest(serializeManifest(manifest)), JSON.parse(JSON.stringify(manifest)));
}

test('domains: rendered into nginx and origins only when they are plain DNS names', () => {
  fc.assert(fc.property(domain, validName, (d, name) => {
    count('domains');
    try {
      const m = timed(2_000, 'validateManifest', () => validateManifest({ settings: { domain: d }, users: [{ name, port: 18800 }] }));
      assert.match(m.settings.domain, /^[a-z0-9.-]+$/);
      renderChecked(m);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_MANIFEST_INVALID'], d);
    }
  }), { numRuns: 1500 });
});

// Manifests as values: mostly well-formed with a few wrong or odd fields, some anything at all.
const odd = fc.anything({ maxDepth: 2 });
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 40, arbitrary: arb }, { weight: 1, arbitrary: odd });
/** Mostly the valid choice, sometimes the hostile one. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: bad });

const cpus = mostly(fc.constantFrom(0.5, 1, 1.5, 2, 0.25), fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 1.234, 1025, Number.NaN), fc.string({ maxLength: 5 })));
const pids = mostly(fc.constantFrom(64, 512, 16), fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })));
const labels = fc.dictionary(mostly(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('ocm.managed', 'com.docker.x'))), fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('a\u0085b', 'yes', 'null', '1', '"x"', "a'b", 'a: b', '- x', '{x}')), { maxKeys: 3 });
const env = fc.dictionary(mostly(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/).filter((k) => !RESERVED_ENV_KEYS.has(k)), envKey), mostly(fc.stringMatching(/^[A-Za-z0-9_.:/@+=-]{0,30}$/), envValue), { maxKeys: 3 });
const userArb = (i: number) => fc.record({
  name: maybe(mostly(validName.map((n) => `${n}${i}`.slice(0, 32)), anyName)),
  port: maybe(mostly(fc.constant(18800 + i), fc.integer({ min: 0, max: 70000 }))),
  enabled: maybe(fc.boolean()),
  image: maybe(mostly(fc.constantFrom('ghcr.io/openclaw/openclaw:2026.9.6', `x@sha256:${'a'.repeat(64)}`), fc.string({ maxLength: 20 }))),
  cpus: maybe(cpus),
  memory: maybe(mostly(fc.constantFrom('512m', '1g', '2g', '128m', '1.5g'), sizeText)),
  pids: maybe(pids),
  env: maybe(env),
}, { requiredKeys: ['name', 'port'] });

const settingsArb = fc.record({
  project: maybe(mostly(fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/), fc.string({ maxLength: 20 }))),
  domain: maybe(mostly(fc.constantFrom('localhost', 'example.com', 'your-ai.com'), domain)),
  image: maybe(mostly(fc.constantFrom('ocm-fixture-gateway:latest', 'ghcr.io/openclaw/openclaw:latest'), fc.string({ maxLength: 30 }))),
  timezone: maybe(mostly(fc.constantFrom('UTC', 'Europe/Berlin', 'Etc/GMT+1'), fc.string({ maxLength: 20 }))),
  gateway: maybe(fc.record({ uid: maybe(mostly(fc.constant(1000), fc.integer({ min: -1, max: 70000 }))), gid: maybe(fc.integer({ min: 0, max: 70000 })) })),
  ports: maybe(fc.record({ base: maybe(mostly(fc.constant(18800), fc.constantFrom(1024, 65535, 80))), max: maybe(mostly(fc.constant(19799), fc.constantFrom(18800, 30000, 65536))) })),
  network: maybe(fc.record({ pool: maybe(mostly(fc.constantFrom('10.231.0.0/16', '172.20.0.0/16'), fc.oneof(fc.constantFrom('10.0.0.0/8', '999.1.0.0/16'), fc.string({ maxLength: 18 })))) })),
  limits: maybe(fc.record({ cpus: maybe(cpus), memory: maybe(mostly(fc.constantFrom('512m', '2g'), sizeText)), pids: maybe(pids) })),
  env: maybe(env),
  labels: maybe(labels),
  tls: maybe(fc.record({ certificate: maybe(mostly(fc.constant('/etc/ssl/x.pem'), fc.string({ maxLength: 20 }))), key: maybe(mostly(fc.constant('/etc/ssl/x.key'), fc.string({ maxLength: 20 }))) })),
  proxy: maybe(fc.record({
    mode: maybe(mostly(fc.constantFrom('embedded', 'nginx'), fc.constant('apache'))),
    listen: maybe(mostly(fc.constantFrom('127.0.0.1:8080', ':80', '0.0.0.0:443', '[::1]:8080', 'localhost:1'), fc.string({ maxLength: 20 }))),
    nginx: maybe(fc.record({ listenAddress: maybe(mostly(fc.constantFrom('', '127.0.0.1', '[::1]'), fc.string({ maxLength: 12 }))), httpPort: maybe(mostly(fc.constantFrom(80, 8080), fc.integer({ min: 0, max: 70000 }))), confDir: maybe(mostly(fc.constant('/etc/nginx/ocm'), fc.string({ maxLength: 20 }))) })),
  })),
  backup: maybe(fc.record({ schedule: maybe(mostly(fc.constant('0 3 * * *'), fc.string({ maxLength: 12 }))), keepDaily: maybe(mostly(fc.constant(7), fc.integer({ min: -1, max: 400 }))) })),
}, { requiredKeys: [] });

const manifestValue = fc.oneof(
  { weight: 10, arbitrary: fc.record({ version: maybe(fc.constant(1)), settings: maybe(settingsArb), users: maybe(fc.tuple(userArb(0), userArb(1), userArb(2)).chain((us) => fc.subarray(us))) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: odd },
);

test('whole manifests as values: a valid manifest renders with exactly the expected structure, anything else is one clear error', () => {
  let valid = 0;
  fc.assert(fc.property(manifestValue, (input) => {
    count('manifests');
    let manifest: Manifest;
    try {
      manifest = timed(2_000, 'validateManifest', () => validateManifest(input));
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_MANIFEST_INVALID'], input);
      return;
    }
    valid++;
    renderChecked(manifest);
  }), { numRuns: 2500 });
  counts.validManifests = (counts.validManifests ?? 0) + valid;
  assert.ok(valid > 250, `only ${valid} valid manifests were generated`);
});

// Manifests as text: serialized valid ones with random edits, plus the classic hostile files.
function hostileTexts(): Record<string, string> {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const aliasFlood = `x: &x 1\nusers: [${Array(150).fill('*x').join(', ')}]\n`;
  const bombInUsers = 'settings:\n  env: &e {A: "1", B: "2"}\nusers:\n' + Array.from({ length: 90 }, (_, i) => `  - {name: u${i}, port: ${18800 + i}, env: *e}`).join('\n') + '\n';
  return {
    billionLaughs: `${bomb.join('\n')}\n`,
    billionLaughsUnderSettings: `settings:\n  labels: &a {x: "1"}\n  env: *a\n${bomb.map((l) => `# ${l}`).join('\n')}\n`,
    aliasFlood,
    bombInUsers,
    deepFlowSeq: `settings: ${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    deepFlowMap: `settings:\n  x: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`,
    deepBlock: (() => {
      let s = 'users:\n';
      for (let i = 0; i < 1000; i++) s += `${' '.repeat(i + 2)}- \n`;
      return s;
    })(),
    huge: `users: []\n#${'x'.repeat(1024 * 1024)}`,
    hugeValue: `settings:\n  domain: ${'a'.repeat(900_000)}\n`,
    manyUsers: `users:\n${Array.from({ length: 5000 }, (_, i) => `  - {name: u${i}, port: ${18800 + (i % 1000)}}`).join('\n')}\n`,
    jsTag: 'settings: !!js/function "function(){}"\n',
    binaryTag: 'settings:\n  domain: !!binary aGVsbG8=\n',
    pythonTag: 'settings: !!python/object/apply:os.system ["id"]\n',
    mergeKey: 'settings:\n  <<: {domain: evil.com}\n',
    proto: '__proto__: {polluted: 1}\nsettings: {}\n',
    protoInEnv: 'users:\n  - name: alice\n    port: 18800\n    env: {__proto__: {X: y}}\n',
    dupKey: 'settings: {}\nsettings: {}\n',
    tabs: 'settings:\n\tdomain: x\n',
    bom: '\ufeffsettings: {}\n',
    nul: 'settings:\n  domain: "a\\0b"\n',
    crlf: 'settings:\r\n  domain: example.com\r\nusers: []\r\n',
    numberKey: '1: 2\n',
    topList: '- a\n- b\n',
    topScalar: 'hello\n',
    empty: '',
    onlyComment: '# nothing\n',
    nan: 'settings:\n  limits:\n    cpus: .nan\n',
    inf: 'settings:\n  limits:\n    cpus: .inf\n',
    bigNumber: `settings:\n  ports:\n    base: 1${'0'.repeat(400)}\n`,
    octal: 'settings:\n  gateway:\n    uid: 0o1750\n',
    yesNo: 'users:\n  - name: alice\n    port: 18800\n    enabled: yes\n',
    unicodeEscape: 'users:\n  - name: "\\u0430lice"\n    port: 18800\n',
    multiDoc: 'settings: {}\n---\nsettings: {}\n',
    unterminated: 'settings: {domain: "x\n',
    badIndent: 'settings:\n  domain: x\n   image: y\n',
  };
}

test('hostile manifest texts: bombs, huge files, deep nesting, tags, wrong types', () => {
  const outcomes: Record<string, string> = {};
  for (const [name, text] of Object.entries(hostileTexts())) {
    count('hostileTexts');
    try {
      const m = timed(3_000, name, () => parseManifest(text));
      outcomes[name] = `ok (${m.users.length} users)`;
      renderChecked(m);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      const e = assertClearError(error, ['OCM_E_MANIFEST_PARSE', 'OCM_E_MANIFEST_INVALID'], name);
      outcomes[name] = `${e.code}: ${e.message.slice(0, 100)}`;
    }
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'prototype pollution');
  assert.match(outcomes.billionLaughs ?? '', /OCM_E_MANIFEST/);
  assert.match(outcomes.aliasFlood ?? '', /alias bomb/);
  assert.match(outcomes.huge ?? '', /more than the 1048576/);
});

test('manifest text with random edits: parses to a valid manifest or one clear error', () => {
  const base = fc.sample(manifestValue, { numRuns: 400, seed: 7 }).flatMap((v) => {
    try {
      return [serializeManifest(validateManifest(v))];
    } catch {
      return [];
    }
  });
  assert.ok(base.length > 20);
  const edit = fc.tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '\n', '  ', '&a ', '*a', '!!', '{', '[', '"', "'", '#', '\t', '|', '>', '\\'))), { maxLength: 4 }))
    .map(([text, edits]) => edits.reduce((t, [at, del, ins]) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + ins + t.slice(i + del);
    }, text));
  fc.assert(fc.property(edit, (text) => {
    count('editedTexts');
    try {
      renderChecked(timed(1_000, 'parseManifest', () => parseManifest(text)));
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      assertClearError(error, ['OCM_E_MANIFEST_PARSE', 'OCM_E_MANIFEST_INVALID'], text);
    }
  }), { numRuns: 1500 });
});

test('error messages stay short for huge values', () => {
  try {
    parseManifest(`settings:\n  domain: ${'a'.repeat(900_000)}\n`);
    assert.fail('accepted');
  } catch (error) {
    assert.ok(error instanceof OcmError);
    assert.ok(error.message.length <= 500, `message is ${error.message.length} characters`);
  }
});

test('Host headers: a route is chosen only for the exact user host, and always that user\'s', () => {
  const manifest = validateManifest({
    settings: { domain: 'your-ai.com' },
    users: [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }, { name: 'al', port: 18802 }, { name: 'alice-b', port: 18803, enabled: false }],
  });
  const table = new StaticRouteTable(manifest.users.map((u) => [userHost(manifest, u.name), { user: u.name, port: u.port, upstreamHost: '127.0.0.1' as const, state: u.enabled ? 'up' as const : 'down' as const }]));
  const owner = new Map(manifest.users.map((u) => [userHost(manifest, u.name), u]));
  const hostArb = fc.oneof(
    fc.tuple(fc.constantFrom(...owner.keys()), fc.constantFrom('', '.', ':8080', ':0', ':65535', ':99999', ':123456', ':', ':x', ' ', '..', '%2e', '\u0000', '/x', '@evil', '.evil.com'), fc.constantFrom('lower', 'upper', 'mixed'))
      .map(([h, s, c]) => {
        const cased = c === 'upper' ? h.toUpperCase() : c === 'mixed' ? [...h].map((ch, i) => (i % 2 ? ch.toUpperCase() : ch)).join('') : h;
        return `${cased}${s}`;
      }),
    fc.tuple(fc.constantFrom('alice', 'bob', 'al', 'x', 'alice.bob', 'a', 'ａlice', 'аlice', 'alice-', '-alice', 'ALICE', '*'), fc.constantFrom('.your-ai.com', '.your-ai.com.', '.your-ai.co', '.YOUR-AI.COM', '.your-ai.com.evil', 'your-ai.com', '.your_ai.com', '')).map(([a, b]) => `${a}${b}`),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constant(undefined),
  );
  fc.assert(fc.property(hostArb, (header) => {
    count('hostHeaders');
    const parsed = timed(1_000, 'parseHostHeader', () => parseHostHeader(header));
    const r = lookupRoute(table, header);
    if (parsed === undefined) {
      assert.equal(r.kind, 'bad-host');
      return;
    }
    assert.match(parsed, /^[a-z0-9.-]+$/);
    const expected = owner.get(parsed);
    if (r.kind === 'up' || r.kind === 'down') {
      assert.ok(expected !== undefined, `${JSON.stringify(header)} routed to ${r.route.user}`);
      assert.equal(r.route.user, expected.name);
      assert.equal(r.route.port, expected.port);
      assert.equal(r.kind, expected.enabled ? 'up' : 'down');
      // Only spelling differences allowed: case, a port, one trailing dot.
      assert.equal((header ?? '').toLowerCase().replace(/:\d{1,5}$/, '').replace(/\.$/, ''), expected.name + '.your-ai.com');
    } else {
      assert.equal(r.kind, 'unknown');
      assert.equal(expected, undefined, `${JSON.stringify(header)} should reach ${expected?.name}`);
    }
  }), { numRuns: 3000 });
});

test('fuzz totals', (t) => {
  const total = Object.entries(counts).filter(([k]) => k !== 'validManifests').reduce((a, [, n]) => a + n, 0);
  record(t, 'fuzz.core', { total, ...counts });
  assert.ok(total >= 10_000, `${total} cases`);
});
