// Manifest text <-> validated Manifest. Parsing refuses unknown keys, YAML
// bombs and oversized files; serializing is deterministic so every edit is a
// minimal, reviewable diff.
import { timeZoneProblem } from './budget-window.js';
import yaml from 'js-yaml';
import type { z } from 'zod';
import { OcmError, quote } from './errors.js';
import { ManifestSchema, type Manifest } from './manifest-schema.js';
import { loadLocated } from './yaml-lines.js';
import { ownPorts, portOf } from './ports.js';

export const MANIFEST_FILE = 'ocm.yaml';
export const MANIFEST_MAX_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key as string];
  }
  return node;
}

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  // Strings are clipped: a 900 KB value must not become a 900 KB error line.
  if (typeof v === 'string') return quote(v);
  // JSON has no text for these.
  if (v === undefined || typeof v === 'symbol' || typeof v === 'function') return String(v);
  return JSON.stringify(v);
};

/** One readable sentence for one schema issue: `users[1].memory: "2 gigs" is not a size`. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): { path: PropertyKey[]; text: string } {
  const path = [...issue.path];
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      return { path: [...path, key], text: `${formatPath([...path, key])}: unknown key` };
    }
    case 'invalid_type':
      if (value === undefined) return { path, text: `${formatPath(path)}: is required` };
      return { path, text: `${formatPath(path)}: ${describe(value)} is not ${article(issue.expected)}` };
    case 'too_small':
      return { path, text: `${formatPath(path)}: ${describe(value)} is below the minimum ${String(issue.minimum)}` };
    case 'too_big':
      return { path, text: `${formatPath(path)}: ${describe(value)} is above the maximum ${String(issue.maximum)}` };
    case 'invalid_value':
      return { path, text: `${formatPath(path)}: ${describe(value)} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'invalid_format':
      return { path, text: `${formatPath(path)}: ${describe(value)} ${issue.message}` };
    case 'invalid_union':
      return { path, text: `${formatPath(path)}: ${describe(value)} is not a valid value` };
    default:
      return { path, text: `${formatPath(path)}: ${issue.message}` };
  }
}

const article = (t: string): string => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** Validate an already-parsed value (e.g. an API body or an edited manifest). */
export function validateManifest(input: unknown, lineOf?: (p: ReadonlyArray<PropertyKey>) => number | undefined, file = MANIFEST_FILE): Manifest {
  const result = ManifestSchema.safeParse(input ?? {});
  if (result.success) {
    checkManifestRules(result.data, file);
    return result.data;
  }
  const first = result.error.issues[0] as z.core.$ZodIssue;
  const { path, text } = issueMessage(first, input);
  const line = lineOf?.(path);
  const where = line === undefined ? '' : `${file}:${line}: `;
  throw new OcmError('OCM_E_MANIFEST_INVALID', `${where}${text}`, {
    details: { path: formatPath(path), line, issues: result.error.issues.length },
  });
}

/** Cross-field rules the schema cannot express: unique names and ports, port range. */
/** Prices name listed models; group members are users, each in one group at most. */
function checkModelRules(manifest: Manifest, users: ReadonlyMap<string, number>, fail: (text: string) => never): void {
  const models = manifest.settings.models;
  if (models === undefined) return;
  const zoneProblem = timeZoneProblem(manifest.settings.timezone);
  if (zoneProblem !== undefined) fail(`settings.timezone: ${JSON.stringify(manifest.settings.timezone)} ${zoneProblem}; budgets reset at its midnight`);
  for (const [id, provider] of Object.entries(models.providers)) {
    for (const model of Object.keys(provider.prices)) {
      if (!provider.models.includes(model)) fail(`settings.models.providers.${id}.prices: ${JSON.stringify(model)} is not in its models list (add it there or remove its price)`);
    }
  }
  const groupOf = new Map<string, string>();
  for (const [group, budget] of Object.entries(models.groups)) {
    for (const member of budget.members) {
      if (!users.has(member)) fail(`settings.models.groups.${group}.members: ${JSON.stringify(member)} is not a user`);
      const other = groupOf.get(member);
      if (other !== undefined) fail(`settings.models.groups.${group}.members: ${JSON.stringify(member)} is already in group ${JSON.stringify(other)}`);
      groupOf.set(member, group);
    }
  }
}

/** What only one engine can do: a node only means something on a swarm, the meter only on bridges. */
function checkEngineRules(manifest: Manifest, fail: (text: string) => never): void {
  const swarm = manifest.settings.engine === 'swarm';
  if (!swarm) {
    const i = manifest.users.findIndex((u) => u.node !== undefined);
    if (i >= 0) fail(`users[${i}].node: a node only applies with settings.engine: swarm (remove it, or run the users on a swarm)`);
    if (manifest.settings.swarm !== undefined) fail('settings.swarm: only applies with settings.engine: swarm');
    return;
  }
  if (manifest.settings.models !== undefined) {
    fail('settings.models: the model meter listens on each user\'s bridge gateway address, which a swarm overlay network does not give this host; use settings.engine: docker for metered models');
  }
}

export function checkManifestRules(manifest: Manifest, file = MANIFEST_FILE): void {
  const names = new Map<string, number>();
  const ports = new Map<number, string>();
  const { base, max } = manifest.settings.ports;
  if (max < base) fail(`settings.ports.max: ${max} is below settings.ports.base ${base}`);
  if (max - base >= 4096) fail(`settings.ports: the range ${base}-${max} is larger than the 4096 users one network pool holds`);
  const { tls, proxy } = manifest.settings;
  if (tls.acme !== undefined && proxy.mode === 'embedded' && proxy.listenTls === undefined) {
    fail('settings.tls.acme: the embedded proxy needs settings.proxy.listenTls to serve the certificates (e.g. listenTls: 0.0.0.0:443, with listen: 0.0.0.0:80 for the CA\'s challenges)');
  }
  if (proxy.listenTls !== undefined && tls.acme === undefined && tls.certificate === undefined) {
    fail('settings.proxy.listenTls: HTTPS needs certificates (set settings.tls.acme.email, or settings.tls.certificate and key)');
  }
  if (proxy.listenTls !== undefined && portOf(proxy.listenTls) === portOf(proxy.listen)) {
    fail(`settings.proxy.listenTls: ${proxy.listenTls} uses the port of settings.proxy.listen; HTTP and HTTPS need a port each (e.g. 80 and 443)`);
  }
  const own = ownPorts(manifest);
  manifest.users.forEach((user, i) => {
    const setting = own.get(user.port);
    if (setting !== undefined) fail(`users[${i}].port: ${user.port} is the port of ${setting}; a gateway published there would take ocm's own listener (give ${user.name} another port)`);
    if (names.has(user.name)) fail(`users[${i}].name: "${user.name}" is already used by users[${names.get(user.name)}]`);
    names.set(user.name, i);
    const other = ports.get(user.port);
    if (other !== undefined) fail(`users[${i}].port: ${user.port} is already used by user "${other}"`);
    ports.set(user.port, user.name);
    if (user.port < base || user.port > max) fail(`users[${i}].port: ${user.port} is outside settings.ports (${base}-${max})`);
  });
  checkModelRules(manifest, names, fail);
  checkEngineRules(manifest, fail);
  function fail(text: string): never {
    throw new OcmError('OCM_E_MANIFEST_INVALID', `${file}: ${text}`);
  }
}

/** Parse manifest text; every problem is an OcmError naming the field and line. */
export function parseManifest(text: string, file = MANIFEST_FILE): Manifest {
  if (text.length > MANIFEST_MAX_BYTES) {
    throw new OcmError('OCM_E_MANIFEST_PARSE', `${file}: is ${text.length} bytes, more than the ${MANIFEST_MAX_BYTES} a manifest may be`);
  }
  const aliases = (text.match(/(^|[\s[{,:-])\*[^\s,\]}]+/g) ?? []).length;
  if (aliases > MAX_ALIASES) {
    throw new OcmError('OCM_E_MANIFEST_PARSE', `${file}: uses ${aliases} YAML aliases (at most ${MAX_ALIASES}); refusing a possible alias bomb`);
  }
  let value: unknown;
  try {
    value = yaml.load(text, { schema: yaml.CORE_SCHEMA, json: false });
  } catch (error) {
    const mark = (error as { mark?: { line: number }; reason?: string }).mark;
    const reason = (error as { reason?: string }).reason ?? 'is not valid YAML';
    const where = mark === undefined ? `${file}` : `${file}:${mark.line + 1}`;
    throw new OcmError('OCM_E_MANIFEST_PARSE', `${where}: ${reason}`, { cause: error });
  }
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new OcmError('OCM_E_MANIFEST_INVALID', `${file}: the top level must be a mapping with settings and users`);
  }
  // Positions cost a listener call per YAML node, so they are only worked out
  // for a manifest that is about to be refused.
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined =>
    loadLocated(text, { schema: yaml.CORE_SCHEMA, json: false }).lineOf(path);
  return validateManifest(value, lineOf, file);
}

const HEADER = `# ocm users manifest: the one source of truth for this deployment.
# Edit it with \`ocm add/set/remove\`; after a hand edit run \`ocm render --check\`.
`;

/** Deterministic YAML: schema key order, no anchors, fixed width. */
export function serializeManifest(manifest: Manifest): string {
  const body = yaml.dump(manifest, { noRefs: true, lineWidth: 120, sortKeys: false, schema: yaml.CORE_SCHEMA, quotingType: '"' });
  return HEADER + body;
}
