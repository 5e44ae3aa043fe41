// Golden files: each fixture manifest renders to exactly the committed
// compose file, nginx confs and env files (tokens fixed). OCM_UPDATE_GOLDEN=1
// rewrites them after an intended change; review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { nginxQuoted, parseManifest, renderDeployment, TEMPLATE_FILES, TEMPLATE_OPTIONS, type PrecompiledTemplates, type TemplateName, type TemplateSources } from '@ocm/core';

const fixtures = new URL('../../../test/fixtures/render/', import.meta.url);
const templatesDir = new URL('../../../templates/', import.meta.url);
export const templates: TemplateSources = Object.fromEntries(
  Object.entries(TEMPLATE_FILES).map(([name, file]) => [name, readFileSync(new URL(file, templatesDir), 'utf8')]),
) as Record<TemplateName, string>;
const update = process.env.OCM_UPDATE_GOLDEN === '1';

for (const name of readdirSync(fixtures)) {
  test(`render fixture ${name} matches its golden files`, () => {
    const manifest = parseManifest(readFileSync(new URL(`${name}/ocm.yaml`, fixtures), 'utf8'));
    const tokens = new Map(manifest.users.map((u) => [u.name, `TOKEN-${u.name}`]));
    const rendered = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' });
    const again = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' });
    assert.deepEqual(again.files, rendered.files, 'deterministic');
    for (const file of rendered.files) {
      const golden = new URL(`${name}/expected/${file.path}`, fixtures);
      if (update || !existsSync(golden)) {
        mkdirSync(dirname(golden.pathname), { recursive: true });
        writeFileSync(golden, file.content);
      }
      assert.equal(file.content, readFileSync(golden, 'utf8'), `${name}/${file.path}`);
    }
  });
}

test('secrets never reach the compose file or nginx confs', () => {
  const manifest = parseManifest(readFileSync(new URL('family/ocm.yaml', fixtures), 'utf8'));
  const tokens = new Map(manifest.users.map((u) => [u.name, `SECRET-${u.name}`]));
  const rendered = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' });
  for (const file of rendered.files.filter((f) => !f.path.endsWith('/env'))) {
    assert.ok(!file.content.includes('SECRET-'), `${file.path} holds a token`);
    assert.ok(!file.content.includes('sk-ant-mum'), `${file.path} holds an API key`);
  }
  const envFiles = rendered.files.filter((f) => f.path.endsWith('/env'));
  assert.ok(envFiles.every((f) => f.mode === 0o600));
});

test('a rotated token changes only that user\'s spec hash', () => {
  const manifest = parseManifest(readFileSync(new URL('family/ocm.yaml', fixtures), 'utf8'));
  const tokens = new Map(manifest.users.map((u) => [u.name, `T-${u.name}`]));
  const before = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' }).plan;
  tokens.set('dad', 'T-new');
  const after = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' }).plan;
  const changed = before.users.filter((u, i) => u.specHash !== after.users[i]?.specHash).map((u) => u.name);
  assert.deepEqual(changed, ['dad']);
});

// The bundled CLI renders from handlebars' precompiled form (scripts/bundle-cli.mjs);
// it must give the same files, to the byte, as compiling the text.
test('precompiled templates render exactly what the templates compiled at run time render', async () => {
  const { default: Handlebars } = await import('handlebars');
  // handlebars' typings call precompile's result a TemplateSpecification; it is JavaScript source text.
  const source = (n: TemplateName): string => Handlebars.precompile(templates[n], TEMPLATE_OPTIONS) as string;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating that source is what turns it into a template spec
  const evaluate = (js: string): unknown => (new Function(`return ${js}`) as () => unknown)();
  const precompiled = Object.fromEntries((Object.keys(TEMPLATE_FILES) as TemplateName[])
    .map((n) => [n, evaluate(source(n))])) as PrecompiledTemplates;
  for (const name of readdirSync(fixtures)) {
    const manifest = parseManifest(readFileSync(new URL(`${name}/ocm.yaml`, fixtures), 'utf8'));
    const tokens = new Map(manifest.users.map((u) => [u.name, `TOKEN-${u.name}`]));
    const compiled = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' });
    const fromSpec = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates: { ...templates, precompiled }, localClientAddress: '192.0.2.10' });
    assert.deepEqual(fromSpec.files, compiled.files, name);
  }
});

test('nginx mode: the HTTPS redirect keeps a port other than 443', () => {
  const text = readFileSync(new URL('tls/ocm.yaml', fixtures), 'utf8').replace('    mode: nginx\n', '    mode: nginx\n    nginx:\n      httpsPort: 8443\n');
  const manifest = parseManifest(text);
  const tokens = new Map(manifest.users.map((u) => [u.name, `TOKEN-${u.name}`]));
  const conf = renderDeployment(manifest, { root: '/opt/ocm', tokens, templates, localClientAddress: '192.0.2.10' })
    .files.find((f) => f.path === 'nginx/alice.conf')?.content ?? '';
  assert.match(conf, /return 308 https:\/\/\$host:8443\$request_uri;/);
  assert.match(conf, /listen 8443 ssl http2;/);
});

test('a page inside an nginx quoted string: quotes and backslashes escaped, no $ left for nginx to expand', () => {
  assert.equal(nginxQuoted(`it's \\ $host`), `it\\'s \\\\ &#36;host`);
});
