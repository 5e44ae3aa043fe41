// plan -> file contents. Handlebars fills templates/*.hbs from the plan itself,
// so the compose file and ocm's own containers cannot drift apart. Values are
// pre-validated and emitted through `json` (a valid YAML scalar), never raw.
import { createRequire } from 'node:module';
import type { Manifest } from './manifest-schema.js';
import { onSwarm, planDeployment } from './plan.js';
import { rootLayout, type CertFiles } from './root-layout.js';
import { parseListen } from './listen-address.js';
import { notRunningPage } from './proxy-pages.js';
import { type DeploymentPlan, type MountSpec, type ContainerSpec } from './plan-types.js';

export interface TemplateSources {
  compose: string;
  composeService: string;
  stack: string;
  stackService: string;
  nginxServer: string;
  nginxShared: string;
  env: string;
  /** Handlebars' precompiled form of the same templates (the bundled CLI carries it). */
  precompiled?: PrecompiledTemplates;
}

export type TemplateName = 'compose' | 'composeService' | 'stack' | 'stackService' | 'nginxServer' | 'nginxShared' | 'env';
/** Each template's file in the repository's templates/ folder. */
export const TEMPLATE_FILES: Readonly<Record<TemplateName, string>> = {
  compose: 'docker-compose.yml.hbs',
  composeService: 'compose-service.yml.hbs',
  stack: 'docker-stack.yml.hbs',
  stackService: 'stack-service.yml.hbs',
  nginxServer: 'nginx-server.conf.hbs',
  nginxShared: 'nginx-shared.conf.hbs',
  env: 'env.hbs',
};
/** What Handlebars.precompile(source, TEMPLATE_OPTIONS) returned for each template, evaluated. */
export type PrecompiledTemplates = Record<TemplateName, TemplateSpecification>;
type TemplateSpecification = Parameters<HB['template']>[0];

/** The options every template is compiled (or precompiled) with. */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

export interface RenderedFile {
  /** Path relative to the deployment root. */
  path: string;
  content: string;
  mode: number;
}

export interface RenderInput {
  root: string;
  /** Current gateway token per user (read from their env file, or freshly made). */
  tokens: ReadonlyMap<string, string>;
  templates: TemplateSources;
  /**
   * A non-loopback address of this host, forwarded as the client address of
   * browsers on this host: the gateway answers 403 proxy_attribution_required
   * to a forwarded loopback address or none at all.
   */
  localClientAddress?: string;
}

export interface Rendered {
  plan: DeploymentPlan;
  files: RenderedFile[];
}

// handlebars is loaded on the first render, so commands that only read the
// manifest (list, show) start without it.
const requireLazy = createRequire(import.meta.url);
type HB = typeof import('handlebars');
let runtime: HB | undefined;

/**
 * Precompiled templates (the bundled CLI's) need only handlebars' runtime, a
 * sixth of its size with no parser or compiler; loading it through import()
 * lets the bundler carry it. Call before a render; renders work without it.
 */
export async function preloadHandlebars(sources?: TemplateSources): Promise<void> {
  if (runtime !== undefined || sources?.precompiled === undefined) return;
  runtime = ((await import('handlebars/runtime')) as unknown as { default: HB }).default;
}

type Compiled = { compose: HandlebarsTemplateDelegate; stack: HandlebarsTemplateDelegate; nginxServer: HandlebarsTemplateDelegate; nginxShared: HandlebarsTemplateDelegate; env: HandlebarsTemplateDelegate };
const compiledCache = new WeakMap<TemplateSources, Compiled>();

function compile(sources: TemplateSources): Compiled {
  const cached = compiledCache.get(sources);
  if (cached !== undefined) return cached;
  const precompiled = sources.precompiled;
  // Templates that come as text need all of handlebars: the runtime cannot compile.
  const hb = ((precompiled !== undefined ? runtime : undefined) ?? (requireLazy('handlebars') as HB)).create();
  hb.registerHelper('json', (value: unknown) => JSON.stringify(value));
  hb.registerHelper('mount', (m: MountSpec) => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`);
  hb.registerHelper('publish', (c: ContainerSpec) => `${c.hostIp}:${c.hostPort}:${c.containerPort}`);
  // compose and stack deploy set com.docker.compose.* and com.docker.stack.* themselves.
  hb.registerHelper('ocmLabels', (labels: Record<string, string>) =>
    Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('com.docker.stack.'))));
  hb.registerHelper('string', (value: unknown) => String(value));
  hb.registerHelper('placement', (node: string) => `node.hostname == ${node}`);
  hb.registerHelper('listen', function (this: { listenAddress?: string }, port: number, options: { data: unknown }) {
    const address = (options.data as { root: { listenAddress: string } }).root.listenAddress;
    return address === '' ? String(port) : `${address}:${port}`;
  });
  hb.registerPartial('service', precompiled !== undefined ? hb.template(precompiled.composeService) : sources.composeService);
  hb.registerPartial('stackService', precompiled !== undefined ? hb.template(precompiled.stackService) : sources.stackService);
  const template = (name: Exclude<TemplateName, 'composeService' | 'stackService'>): HandlebarsTemplateDelegate =>
    precompiled !== undefined ? hb.template(precompiled[name]) : hb.compile(sources[name], TEMPLATE_OPTIONS);
  const compiled = { compose: template('compose'), stack: template('stack'), nginxServer: template('nginxServer'), nginxShared: template('nginxShared'), env: template('env') };
  compiledCache.set(sources, compiled);
  return compiled;
}

/** Env file text for one user: the token plus shared and per-user env, keys sorted. */
export function renderEnvFile(templates: TemplateSources, name: string, token: string, env: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return compile(templates).env({ name, token, env: sorted });
}

export function mergedEnv(manifest: Manifest, name: string): Record<string, string> {
  const user = manifest.users.find((u) => u.name === name);
  return { ...manifest.settings.env, ...(user?.env ?? {}) };
}

/**
 * The nginx upstream of one user: `ocm_<project>_<user>`, hyphens as
 * underscores. Projects (letters and digits, distinct per root) and user
 * names (no underscores) keep it unique across users and roots.
 */
export function nginxUpstreamName(project: string, user: string): string {
  return `ocm_${project}_${user.replaceAll('-', '_')}`;
}

/**
 * HTML as the inside of an nginx single-quoted string: quotes and
 * backslashes escaped, and `$` (which nginx would read as a variable) as its
 * HTML character reference, so the page reads the same.
 */
export function nginxQuoted(html: string): string {
  return html.replace(/[\\']/g, (c) => `\\${c}`).replaceAll('$', '&#36;');
}

/**
 * nginx with ACME (no certificate of the admin's own): where the CA's HTTP-01
 * challenges are passed (the daemon's admin listener, which holds the open
 * ones) and the placeholder pair of the catch-all HTTPS server.
 */
function nginxAcme(settings: Manifest['settings'], placeholder: CertFiles): { challenges: string; placeholder: { certificate: string; key: string } } | undefined {
  if (settings.tls.acme === undefined || settings.tls.certificate !== undefined) return undefined;
  const admin = parseListen(settings.admin.listen, 'settings.admin.listen');
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  return { challenges: `${host}:${admin.port}`, placeholder: { certificate: placeholder.cert, key: placeholder.key } };
}

export function renderDeployment(manifest: Manifest, input: RenderInput): Rendered {
  const t = compile(input.templates);
  const envFiles = new Map<string, string>();
  for (const user of manifest.users) {
    const token = input.tokens.get(user.name);
    if (token === undefined) throw new Error(`internal: no token for ${user.name}`);
    envFiles.set(user.name, renderEnvFile(input.templates, user.name, token, mergedEnv(manifest, user.name)));
  }
  const plan = planDeployment(manifest, { root: input.root, envFiles });
  const { settings } = manifest;
  const nginx = settings.proxy.nginx;
  const layout = rootLayout(plan.root, { nginxConfDir: nginx.confDir });
  const acme = nginxAcme(settings, layout.acmePlaceholder);
  const tls = settings.tls.certificate !== undefined && settings.tls.key !== undefined ? settings.tls : acme?.placeholder;
  const localClientAddress = settings.proxy.localClientAddress ?? input.localClientAddress;
  const httpsPortSuffix = nginx.httpsPort === 443 ? '' : `:${nginx.httpsPort}`;
  const nginxView = { tls, acme, httpPort: nginx.httpPort, httpsPort: nginx.httpsPort, httpsPortSuffix, listenAddress: nginx.listenAddress, domain: settings.domain, localClientAddress };
  const confDir = layout.nginx;

  const files: RenderedFile[] = [
    // On a swarm the same file is a stack file: `docker stack deploy` reads it.
    { path: 'docker-compose.yml', mode: 0o644, content: (onSwarm(manifest) ? t.stack : t.compose)({ project: settings.project, services: plan.users.filter((u) => u.enabled) }) },
    { path: 'nginx/ocm.conf', mode: 0o644, content: t.nginxShared({ ...nginxView, confDir }) },
  ];
  for (const user of plan.users) {
    files.push({ path: `users/${user.name}/env`, mode: 0o600, content: envFiles.get(user.name) as string });
    const upstream = nginxUpstreamName(settings.project, user.name);
    const notRunning = notRunningPage(user.host);
    const notRunningView = { body: nginxQuoted(notRunning.body), retryAfter: notRunning.headers['retry-after'] };
    // With ACME each host's block names that host's own files (a placeholder until the CA's certificate replaces it).
    const userTls = acme === undefined ? tls : { certificate: layout.acmeHost(user.host).cert, key: layout.acmeHost(user.host).key };
    files.push({ path: `nginx/${user.name}.conf`, mode: 0o644, content: t.nginxServer({ ...nginxView, tls: userTls, name: user.name, host: user.host, port: user.container.hostPort, upstream, notRunning: notRunningView }) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { plan, files };
}
