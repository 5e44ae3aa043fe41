// The users manifest, declared once: types, defaults, descriptions and the
// rules that give each field its error message all come from this schema.
import * as z from 'zod';
import { quote } from './errors.js';
import { nameProblem, RESERVED_NAMES } from './names.js';
import { sizeProblem, cpusProblem } from './sizes.js';
import { envKeyProblem, envValueProblem, RESERVED_ENV_KEYS } from './env-vars.js';
import { egressEntryProblem } from './egress-entry.js';

// A CLI process parses a handful of manifests and exits: zod's generated
// object parsers (new Function) cost more to build than they save (7 ms of
// `ocm list`'s 143).
z.config({ jitless: true });

// Bounded: a 900 KB value must not become a 900 KB error line.
const show = (v: unknown): string => (typeof v === 'string' ? quote(v) : JSON.stringify(v));

const Size = z.string().superRefine((v, ctx) => {
  const problem = sizeProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${show(v)} ${problem}` });
});

const Cpus = z.number().superRefine((v, ctx) => {
  const problem = cpusProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${show(v)} ${problem} (use 0.5, 1 or 2)` });
});

const Pids = z.number().int().min(16).max(1_000_000);

const Port = z.number().int().min(1024).max(65535);

// A swarm node as `docker node ls` names it: its host name.
const NodeName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, { message: 'is not a node host name (letters, digits, "." and "-")' });

const EnvMap = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const [key, value] of Object.entries(env)) {
    const keyProblem = envKeyProblem(key) ?? (RESERVED_ENV_KEYS.has(key) ? 'is set by ocm and cannot be overridden' : undefined);
    if (keyProblem !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `key ${show(key)} ${keyProblem}` });
    const valueProblem = envValueProblem(value);
    if (valueProblem !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `value ${valueProblem}` });
  }
});

// Domain names: lowercase DNS labels separated by dots ("localhost" allowed).
const Domain = z.string().regex(/^(?=.{1,200}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
  message: 'is not a domain name (use lowercase letters, digits, hyphens and dots, e.g. your-ai.com)',
});

// Image references: registry/path:tag or @sha256:digest, no whitespace or quotes.
const Image = z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/, {
  message: 'is not an image reference (e.g. ghcr.io/openclaw/openclaw:2026.9.6 or ...@sha256:<digest>)',
});

const AbsPath = z.string().regex(/^\/[^\0\n\r;{}'"\s]*$/, { message: 'must be an absolute path without spaces, quotes, ; or braces' });

const ListenAddress = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]|localhost|\*)?:\d{1,5}$/, {
  message: 'is not a listen address (use 127.0.0.1:8080, 0.0.0.0:80 or :8080)',
});

/** Where certificates come from when settings.tls.acme names no directory. */
export const ACME_DEFAULT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

const Cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/, { message: 'must be a /16 IPv4 network such as 10.231.0.0/16' });

const EgressAllow = z.array(z.string().superRefine((v, ctx) => {
  const problem = egressEntryProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${show(v)} ${problem}` });
})).max(256);

// Money in US dollars; budgets and prices are plain numbers so YAML stays readable.
const Usd = z.number().min(0).max(1_000_000);

export const BudgetSchema = z.strictObject({
  daily: Usd.optional().describe('US dollars a day, counted from midnight in settings.timezone'),
  monthly: Usd.optional().describe('US dollars a calendar month in settings.timezone'),
});

const ModelId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:\-/]{0,127}$/, { message: 'is not a model id (letters, digits, ".", "_", ":", "-" and "/")' });

const Price = z.strictObject({
  input: Usd.describe('US dollars per million input tokens'),
  output: Usd.describe('US dollars per million output tokens (reasoning included)'),
  cacheRead: Usd.optional().describe('US dollars per million cached input tokens; default the input price'),
  cacheWrite: Usd.optional().describe('US dollars per million input tokens written to the cache (Anthropic); default the input price'),
  cacheWrite1h: Usd.optional().describe('US dollars per million input tokens written to the 1-hour cache (Anthropic); default the cacheWrite price'),
});

// The admin's own provider key: it stays in ocm.yaml and the meter's memory, never in a container.
const ApiKey = z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, { message: 'must be one line of printable characters without spaces' });

export const ProviderSchema = z.strictObject({
  api: z.enum(['openai-completions', 'openai-responses', 'anthropic-messages']).describe('the wire format of the provider (openai-responses: OpenAI\'s /responses)'),
  baseUrl: z.string().regex(/^https?:\/\/[A-Za-z0-9.\-[\]:]+(\/[A-Za-z0-9._~\-/]*)?$/, { message: 'is not an http(s) URL (e.g. https://api.openai.com/v1)' })
    .describe('the provider\'s API root, e.g. https://api.openai.com/v1'),
  apiKey: ApiKey.describe('the admin\'s provider key; only the meter sends it'),
  models: z.array(ModelId).min(1).max(256).describe('models the gateways may use through this provider'),
  prices: z.record(ModelId, Price).default({}).describe('USD per million tokens, per model; a call to an unpriced model costs 0'),
});

export const GroupName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'is not a group name (lowercase letters, digits and hyphens)' });

export const ModelsSchema = z.strictObject({
  listenPort: Port.default(18790).describe('port the model meter listens on, at each user network\'s bridge gateway address'),
  providers: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { message: 'is not a provider id (lowercase letters, digits and hyphens)' }), ProviderSchema)
    .default({}).describe('providers the gateways reach only through the meter'),
  budget: BudgetSchema.optional().describe('default budget of each user without their own'),
  groups: z.record(GroupName, BudgetSchema.extend({
    members: z.array(z.string()).max(4096).describe('user names sharing this budget (a removed user leaves it; it may be empty)'),
  })).default({}).describe('budgets shared by several users, on top of each one\'s own'),
});

export const LimitsSchema = z.strictObject({
  cpus: Cpus.default(2).describe('CPUs each gateway may use (fractions allowed)'),
  memory: Size.default('2g').describe('memory limit per gateway; it is OOM-killed and restarted above it'),
  pids: Pids.default(512).describe('maximum processes/threads per gateway'),
});

export const UserSchema = z.strictObject({
  name: z.string().superRefine((v, ctx) => {
    const problem = nameProblem(v) ?? (RESERVED_NAMES.has(v) ? 'is reserved' : undefined);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${show(v)} ${problem}` });
  }).describe('DNS label: the subdomain, container and directory name'),
  port: Port.describe('127.0.0.1 port of this gateway; allocated once by ocm'),
  enabled: z.boolean().default(true).describe('false keeps the user and data but stops the gateway'),
  image: Image.optional().describe('pins this user to another image than settings.image (set by `ocm upgrade <name>`)'),
  cpus: Cpus.optional().describe('overrides settings.limits.cpus'),
  memory: Size.optional().describe('overrides settings.limits.memory'),
  pids: Pids.optional().describe('overrides settings.limits.pids'),
  env: EnvMap.default({}).describe('extra environment for this gateway (model API keys...)'),
  egress: z.strictObject({
    allow: EgressAllow.default([]).describe('addresses or CIDRs, with an optional port, this gateway may reach although the policy refuses them'),
  }).optional().describe('this user\'s own openings in the network policy (`ocm set <name> --allow`)'),
  budget: BudgetSchema.optional().describe('this user\'s model budget; overrides settings.models.budget (`ocm set <name> --daily-budget`)'),
  node: NodeName.optional().describe('swarm node (its hostname) that holds this user\'s state and runs her gateway; chosen by `ocm add` (--node), changed by `ocm move`'),
});

// Extra Docker labels for monitoring or ownership; ocm's own and compose's are off limits.
const Labels = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `label key ${show(key)} must be lowercase letters, digits, ".", "_" or "-"` });
    else if (/^(ocm\.(managed|user|root|spec-hash)$|com\.docker\.)/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `label ${show(key)} is set by ocm or compose` });
    // eslint-disable-next-line no-control-regex -- label values must not hold control characters or line breaks
    if (value.length > 256 || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) ctx.addIssue({ code: 'custom', path: [key], message: 'label value must be one line of at most 256 characters' });
    else if (value.includes('$')) ctx.addIssue({ code: 'custom', path: [key], message: 'label value contains "$", which docker-compose would expand' });
  }
});

export const SettingsSchema = z.strictObject({
  project: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, { message: 'must be 1-16 lowercase letters and digits, starting with a letter' }).default('ocm').describe('prefix of container and network names and the compose project; distinct per root on one host'),
  // Optional, so manifests that never chose stay as they are; absent means docker.
  engine: z.enum(['docker', 'swarm']).optional().describe('docker: one container per user on this host; swarm: one service per user on a Docker Swarm this host manages (`ocm init --engine swarm`)'),
  swarm: z.strictObject({
    sharedState: z.boolean().default(false).describe('true when <root>/users is on storage every node mounts at the same path (NFS...): users may then run on any node; false: ocm keeps state on this manager, so users run here'),
  }).optional().describe('with settings.engine: swarm'),
  domain: Domain.default('localhost').describe('users are served at <name>.<domain>'),
  image: Image.default('ghcr.io/openclaw/openclaw:latest').describe('gateway image; pin with a tag or @sha256 digest'),
  timezone: z.string().regex(/^[A-Za-z0-9_+\-/]{1,64}$/, { message: 'is not a timezone name (e.g. UTC or Europe/Berlin)' }).default('UTC').describe('TZ for gateways and the backup schedule'),
  gateway: z.strictObject({
    uid: z.number().int().min(0).max(2 ** 31).default(1000).describe('uid the gateway runs as; owns state/config'),
    gid: z.number().int().min(0).max(2 ** 31).default(1000).describe('gid the gateway runs as'),
  }).prefault({}),
  ports: z.strictObject({
    base: Port.default(18800).describe('first 127.0.0.1 port handed to users'),
    max: Port.default(19799).describe('last port handed to users'),
  }).prefault({}),
  network: z.strictObject({
    pool: Cidr.default('10.231.0.0/16').describe('each user gets a /28 of it as a private bridge network'),
    // Optional with defaults applied where it is read, so manifests that never set it stay as they are.
    egress: z.strictObject({
      policy: z.enum(['restricted', 'open']).default('restricted').describe('restricted: gateways reach the Internet only, never the host, the LAN or each other; open: no policy (a warning)'),
      allow: EgressAllow.default([]).describe('addresses or CIDRs, with an optional port, every gateway may reach'),
      hostPorts: z.array(z.number().int().min(1).max(65535)).max(64).default([]).describe('TCP ports on its own bridge gateway address a gateway may reach (e.g. the model meter)'),
    }).optional().describe('the tenant network policy'),
  }).prefault({}),
  limits: LimitsSchema.prefault({}),
  env: EnvMap.default({}).describe('environment shared by every gateway (per-user env wins)'),
  labels: Labels.default({}).describe('extra Docker labels on every container and network ocm creates'),
  tls: z.strictObject({
    certificate: AbsPath.optional().describe('PEM certificate (a wildcard *.<domain> works for all users)'),
    key: AbsPath.optional().describe('PEM private key'),
    acme: z.strictObject({
      email: z.string().regex(/^[^\s@<>"',;]{1,64}@[a-z0-9.-]{1,200}\.[a-z]{2,63}$/i, { message: 'is not an email address (e.g. admin@your-ai.com)' }).describe('contact the CA writes to about expiring certificates'),
      directory: z.string().regex(/^https:\/\/[^\s"'<>]{1,500}$/, { message: 'is not an https URL of an ACME directory' }).default(ACME_DEFAULT_DIRECTORY).describe('ACME directory URL of the CA (staging or another CA by URL)'),
      caFile: AbsPath.optional().describe('PEM of an extra CA trusted for the ACME server itself'),
    }).optional().describe('certificates per user host from an ACME CA, issued and renewed by the daemon; certificate/key above take precedence'),
  }).prefault({}).describe('leave empty for plain HTTP'),
  proxy: z.strictObject({
    mode: z.enum(['embedded', 'nginx']).default('embedded').describe('embedded: ocm daemon routes subdomains; nginx: host nginx does'),
    listen: ListenAddress.default('127.0.0.1:8080').describe('embedded proxy listen address'),
    listenTls: ListenAddress.optional().describe('embedded proxy HTTPS listen address (with settings.tls.acme; listen then answers ACME challenges and redirects to HTTPS)'),
    publicPort: Port.or(z.literal(80)).or(z.literal(443)).optional().describe('port browsers use in URLs, when not the default'),
    localClientAddress: z.string().regex(/^(?!127\.)(?!0\.)\d{1,3}(\.\d{1,3}){3}$/, { message: 'is not a non-loopback IPv4 address (e.g. 192.168.1.10)' }).optional()
      .describe('client address the gateways are told for browsers on this host (they refuse a loopback one); default: detected, the default route\'s address, else docker0\'s'),
    nginx: z.strictObject({
      confDir: AbsPath.optional().describe('directory nginx includes; default <root>/nginx'),
      binary: z.string().regex(/^[A-Za-z0-9_./-]+$/).default('nginx').describe('nginx executable'),
      config: AbsPath.optional().describe('main nginx.conf passed as -c (default: nginx\'s own)'),
      httpPort: z.number().int().min(1).max(65535).default(80),
      httpsPort: z.number().int().min(1).max(65535).default(443),
      listenAddress: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])?$/).default('').describe('address nginx listens on; empty for all'),
    }).prefault({}),
  }).prefault({}),
  admin: z.strictObject({
    listen: ListenAddress.default('127.0.0.1:7070').describe('admin API and status page'),
  }).prefault({}),
  backup: z.strictObject({
    schedule: z.string().regex(/^[0-9*,/\- ]+$/, { message: 'is not a cron expression (e.g. "0 3 * * *")' }).default('0 3 * * *'),
    keepDaily: z.number().int().min(1).max(366).default(7),
    keepWeekly: z.number().int().min(0).max(520).default(4),
    keepManual: z.number().int().min(1).max(1000).default(5).describe('newest backups taken by hand (`ocm backup <name>`) kept; the scheduled ones follow keepDaily/keepWeekly'),
    consistency: z.enum(['pause', 'stop']).default('pause').describe('how the gateway is held still while its state is read'),
    copyTo: AbsPath.optional().describe('second directory each new archive is copied to and verified'),
    maxFiles: z.number().int().min(1).max(10_000_000).default(250_000).describe('most files, directories and links one user\'s trees may hold; checked before the user is frozen'),
    maxBytes: Size.default('8g').describe('most bytes one user\'s files may hold (a sparse file counts at its full length); checked before the user is frozen'),
    timeoutMinutes: z.number().int().min(1).max(1440).default(60).describe('one user\'s backup or restore is given up (and the user thawed) after this long'),
  }).prefault({}),
  // Optional, so manifests that never meter models stay as they are.
  models: ModelsSchema.optional().describe('the model meter: provider keys, prices and budgets'),
  health: z.strictObject({
    timeoutSeconds: z.number().int().min(1).max(3600).default(120).describe('how long to wait for a gateway to become healthy'),
  }).prefault({}),
});

export const ManifestSchema = z.strictObject({
  version: z.literal(1).default(1).describe('manifest format version'),
  settings: SettingsSchema.prefault({}),
  users: z.array(UserSchema).default([]),
});

export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
export type Settings = Manifest['settings'];
export type User = Manifest['users'][number];
export type Models = z.output<typeof ModelsSchema>;
export type Provider = z.output<typeof ProviderSchema>;
export type Budget = z.output<typeof BudgetSchema>;
