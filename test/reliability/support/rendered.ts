// What the rendered files of a valid manifest must be, derived from the plan:
// the compose file parsed back as YAML equals the object the plan describes;
// nginx files hold only the directives ocm writes, with this user's values;
// env files hold exactly the token and the merged env. Anything a value could
// inject shows up as a difference here.
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { LABEL_MANAGED, effectiveLimits, mergedEnv, parseSize, type Manifest, type Rendered, type TemplateSources, type UserDeployment } from '@ocm/core';
import { parseEnvFile } from '@ocm/engine';
import { loadTemplates } from '@ocm/store';

export const templates: TemplateSources = loadTemplates();

function expectedService(u: UserDeployment): Record<string, unknown> {
  const c = u.container;
  return {
    image: c.image,
    container_name: c.name,
    hostname: c.hostname,
    command: c.command,
    user: c.user,
    init: true,
    restart: 'unless-stopped',
    env_file: c.envFile,
    environment: c.env,
    volumes: c.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`),
    ports: [`${c.hostIp}:${c.hostPort}:${c.containerPort}`],
    cpus: c.limits.cpus,
    mem_limit: c.limits.memoryBytes,
    memswap_limit: c.limits.memoryBytes,
    pids_limit: c.limits.pids,
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    healthcheck: {
      test: c.healthcheck.test,
      interval: `${c.healthcheck.intervalSeconds}s`,
      timeout: `${c.healthcheck.timeoutSeconds}s`,
      retries: c.healthcheck.retries,
      start_period: `${c.healthcheck.startPeriodSeconds}s`,
    },
    labels: Object.fromEntries(Object.entries(c.labels).filter(([k]) => !k.startsWith('com.docker.compose.'))),
    networks: { [u.name]: { aliases: [u.name] } },
  };
}

/** The compose file as data, as the plan says it must be. */
export function expectedCompose(manifest: Manifest, rendered: Rendered): unknown {
  const enabled = rendered.plan.users.filter((u) => u.enabled);
  if (enabled.length === 0) return { version: '2.4', services: {} };
  return {
    version: '2.4',
    services: Object.fromEntries(enabled.map((u) => [u.name, expectedService(u)])),
    networks: Object.fromEntries(enabled.map((u) => [u.name, {
      name: u.network.name, driver: 'bridge', labels: u.network.labels, ipam: { config: [{ subnet: u.network.subnet, gateway: u.network.gateway }] },
    }])),
  };
}

const NGINX_LINE = [
  /^server \{$/, /^\}$/, /^location \/ \{$/,
  /^listen (?:\d{1,3}(?:\.\d{1,3}){3}:|\[[0-9a-f:]+\]:)?\d{1,5}(?: ssl http2)?;$/,
  /^server_name \*?[a-z0-9.-]+;$/,
  /^return 308 https:\/\/\$host(?::\d{1,5})?\$request_uri;$/, /^return 404;$/,
  // ocm's 503 page for a stopped gateway (its text is checked by checkNginx).
  /^error_page 502 = @ocm_not_running;$/, /^location @ocm_not_running \{$/, /^default_type "text\/html; charset=utf-8";$/,
  /^add_header (?:Cache-Control "no-store"|Retry-After "\d{1,3}"|X-Content-Type-Options "nosniff") always;$/,
  /^ssl_certificate(?:_key)? \/[^\s;{}'"]*;$/,
  /^add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;$/,
  /^client_max_body_size 50m;$/,
  /^upstream ocm_[a-z][a-z0-9]*_[a-z][a-z0-9_]* \{$/, /^server 127\.0\.0\.1:\d{1,5};$/, /^keepalive 64;$/, /^keepalive_timeout 4s;$/,
  /^proxy_pass http:\/\/ocm_[a-z][a-z0-9]*_[a-z][a-z0-9_]*;$/,
  /^proxy_http_version 1\.1;$/,
  /^proxy_set_header (?:Host \$host|X-Forwarded-For \$(?:remote_addr|ocm_forwarded_for)|X-Forwarded-Proto \$scheme|X-Forwarded-Host \$host|Upgrade \$http_upgrade|Connection \$ocm_connection_upgrade);$/,
  /^proxy_(?:read|send)_timeout 3600s;$/, /^proxy_(?:request_)?buffering off;$/,
  /^proxy_(?:buffer_size|buffers 4|busy_buffers_size) 32k;$/,
  /^map \$http_upgrade \$ocm_connection_upgrade \{$/, /^default upgrade;$/, /^'' +"";$/,
  // Loopback clients are forwarded as a non-loopback address of the host (the gateway refuses a loopback one).
  /^map \$remote_addr \$ocm_forwarded_for \{$/, /^~\^127\\\. +"\d{1,3}(?:\.\d{1,3}){3}";$/, /^"::1" +"\d{1,3}(?:\.\d{1,3}){3}";$/, /^default +\$remote_addr;$/,
];

/** Every line of an nginx file is a comment, blank, or one of the directives ocm writes. */
export function checkNginx(path: string, content: string): void {
  let depth = 0;
  // The one quoted string ocm writes: `return 503 '<page>';`, over several lines.
  // Inside it no unescaped quote could end it early and no $ could name a variable.
  const page = /^ *return 503 '((?:[^'\\$]|\\['\\])*)';$/m;
  const quoted = page.exec(content);
  if (quoted !== null) {
    assert.match(quoted[1] ?? '', /^<!doctype html>\n[\s\S]*<\/html>\n$/, `${path}: the 503 page is a whole HTML page`);
    content = content.replace(page, '');
  }
  assert.ok(!content.includes('return 503'), `${path}: a 503 page that is not one clean quoted string`);
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    assert.ok(NGINX_LINE.some((re) => re.test(line)), `${path}: unexpected line ${JSON.stringify(line)}`);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    assert.ok(depth >= 0, `${path}: unbalanced braces`);
  }
  assert.equal(depth, 0, `${path}: unbalanced braces`);
}

/** All the checks on one successful render. */
export function checkRendered(manifest: Manifest, rendered: Rendered, tokens: ReadonlyMap<string, string>): void {
  const byPath = new Map(rendered.files.map((f) => [f.path, f]));
  const compose = byPath.get('docker-compose.yml');
  assert.ok(compose !== undefined);
  assert.deepEqual(yaml.load(compose.content), expectedCompose(manifest, rendered), 'compose file structure');
  const shared = byPath.get('nginx/ocm.conf');
  assert.ok(shared !== undefined);
  checkNginx(shared.path, shared.content);
  assert.ok(shared.content.includes(`server_name *.${manifest.settings.domain};`));
  for (const user of manifest.users) {
    const plan = rendered.plan.users.find((u) => u.name === user.name);
    assert.ok(plan !== undefined);
    assert.equal(plan.container.labels[LABEL_MANAGED], '1');
    const limits = effectiveLimits(manifest, user);
    assert.equal(plan.container.limits.memoryBytes, parseSize(limits.memory));
    assert.equal(plan.container.hostIp, '127.0.0.1');
    const conf = byPath.get(`nginx/${user.name}.conf`);
    assert.ok(conf !== undefined, `nginx/${user.name}.conf`);
    checkNginx(conf.path, conf.content);
    const names = conf.content.match(/server_name ([^;]+);/g) ?? [];
    assert.ok(names.length >= 1 && names.every((n) => n === `server_name ${user.name}.${manifest.settings.domain};`), `${conf.path}: ${names.join(' ')}`);
    const upstream = `ocm_${manifest.settings.project}_${user.name.replaceAll('-', '_')}`;
    const passes = conf.content.match(/proxy_pass [^;]+;/g) ?? [];
    assert.deepEqual(passes, [`proxy_pass http://${upstream};`]);
    const servers = conf.content.match(/^\s*server 127\.0\.0\.1:\d+;$/gm) ?? [];
    assert.deepEqual(servers.map((l) => l.trim()), [`server 127.0.0.1:${user.port};`]);
    assert.ok(conf.content.includes(`upstream ${upstream} {`), `${conf.path}: upstream ${upstream}`);
    const env = byPath.get(`users/${user.name}/env`);
    assert.ok(env !== undefined);
    assert.equal(env.mode, 0o600);
    assert.deepEqual(parseEnvFile(env.content), { OPENCLAW_GATEWAY_TOKEN: tokens.get(user.name), ...mergedEnv(manifest, user.name) }, `${env.path} keys and values`);
    const assignments = env.content.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(assignments.length, 1 + Object.keys(mergedEnv(manifest, user.name)).length, `${env.path}: one line per key`);
  }
  const expectedPaths = ['docker-compose.yml', 'nginx/ocm.conf', ...manifest.users.flatMap((u) => [`nginx/${u.name}.conf`, `users/${u.name}/env`])].sort();
  assert.deepEqual(rendered.files.map((f) => f.path).sort(), expectedPaths);
}
