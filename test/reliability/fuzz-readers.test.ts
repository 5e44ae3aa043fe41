// The same rendered files read by the other programs that read them: every
// env value ocm accepts must come out of docker-compose's env-file reader
// (python-dotenv) exactly as ocm's engine reads it, and every compose file
// must mean the same to PyYAML (what docker-compose v1 uses) as to js-yaml.
// README: "with these rules every reader takes them literally".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { envValueProblem, renderDeployment, renderEnvFile, validateManifest } from '@ocm/core';
import { parseEnvFile } from '@ocm/engine';
import { tempDir } from '../helpers/cli.js';
import { run } from './support/measure.js';
import { record } from './support/record.js';
import { templates } from './support/rendered.js';

// docker-compose v1 runs on the system python; its readers are python-dotenv and PyYAML.
const PYTHON = '/usr/bin/python3';
const hasReaders = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import dotenv, yaml'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const DOTENV = `
import json, sys, dotenv
paths = json.load(sys.stdin)
out = [dict(dotenv.dotenv_values(dotenv_path=p, encoding='utf-8-sig', interpolate=True)) for p in paths]
json.dump(out, sys.stdout)
`;
const PYYAML = `
import json, sys, yaml
paths = json.load(sys.stdin)
json.dump([yaml.safe_load(open(p, encoding='utf-8')) for p in paths], sys.stdout)
`;

function python(script: string, input: unknown): unknown {
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), maxBuffer: 64 * 1024 * 1024 }).toString('utf8'));
}

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.stringMatching(/^[^\s"'`$][^$\n]{0,30}$/),
  fc.constantFrom('a\u0085#b', 'a\u0085', 'x\u0085y', 'a\u2028#b', 'a\u00a0#b', 'a#b', "a'b", 'a"b', 'a\\nb', 'a=b', 'sk-ant-api03-abc_DEF', 'ünïcödé', 'a\u200b#b'),
).filter((v) => envValueProblem(v) === undefined);

test('env values ocm accepts mean the same to docker-compose (python-dotenv) and to ocm', { skip: hasReaders ? false : 'no /usr/bin/python3 with dotenv and yaml' }, (t) => {
  const dir = tempDir(t);
  // Values python-dotenv reads as white space or line breaks are refused up front.
  for (const bad of ['a\u0085#b', 'a\u0085', 'a\u2028b']) assert.match(envValueProblem(bad) ?? '', /control character/);
  const values = fc.sample(value, { numRuns: 1500, seed: 4242 }).filter((v) => envValueProblem(v) === undefined);
  const paths = values.map((v, i) => {
    const path = `${dir}/env-${i}`;
    writeFileSync(path, renderEnvFile(templates, 'alice', 'tok', { KEY: v }));
    return path;
  });
  const compose = python(DOTENV, paths) as Array<Record<string, string | null>>;
  const differ: Array<{ value: string; ocm: string | undefined; compose: string | null | undefined }> = [];
  values.forEach((v, i) => {
    const ours = parseEnvFile(renderEnvFile(templates, 'alice', 'tok', { KEY: v }));
    assert.equal(ours.KEY, v, 'ocm reads back what it wrote');
    if (compose[i]?.KEY !== v) differ.push({ value: v, ocm: ours.KEY, compose: compose[i]?.KEY });
  });
  record(t, 'fuzz.readers.env', { values: values.length, differ: differ.length, examples: differ.slice(0, 3).map((d) => ({ value: JSON.stringify(d.value), compose: JSON.stringify(d.compose) })) });
  assert.deepEqual([...new Set(differ.map((d) => JSON.stringify(d.value)))], [], 'docker-compose would start the gateway with other values than ocm');
});

test('label values ocm accepts mean the same to PyYAML and js-yaml in docker-compose.yml', { skip: hasReaders ? false : 'no /usr/bin/python3 with dotenv and yaml' }, (t) => {
  const dir = tempDir(t);
  const label = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('a\u0085b', 'a\u2028b', 'yes', 'null', '~', '1e3', '0x10', "a'b", 'a: b', '- x', '{x}', '&a', '*a', '!!str x', '#x', '"'));
  const manifests = fc.sample(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/).filter((k) => !k.startsWith('ocm.') && !k.startsWith('com.docker.')), label, { minKeys: 1, maxKeys: 4 }), { numRuns: 300, seed: 99 })
    .flatMap((labels) => {
      try {
        return [validateManifest({ settings: { labels, env: { SHARED: 'x' } }, users: [{ name: 'alice', port: 18800 }, { name: 'bob', port: 18801 }] })];
      } catch {
        return [];
      }
    });
  assert.ok(manifests.length > 150, `${manifests.length} valid manifests`);
  const tokens = new Map([['alice', 'ta'], ['bob', 'tb']]);
  const paths = manifests.map((m, i) => {
    const path = `${dir}/compose-${i}.yml`;
    writeFileSync(path, renderDeployment(m, { root: '/opt/ocm', tokens, templates }).files.find((f) => f.path === 'docker-compose.yml')?.content ?? '');
    return path;
  });
  const pyyaml = python(PYYAML, paths) as unknown[];
  const differ: Array<{ labels: Record<string, string> }> = [];
  manifests.forEach((m, i) => {
    const js = yaml.load(renderDeployment(m, { root: '/opt/ocm', tokens, templates }).files.find((f) => f.path === 'docker-compose.yml')?.content ?? '');
    try {
      assert.deepEqual(pyyaml[i], JSON.parse(JSON.stringify(js)));
    } catch {
      differ.push({ labels: m.settings.labels });
    }
  });
  record(t, 'fuzz.readers.compose', { files: manifests.length, differ: differ.length, examples: differ.slice(0, 3).map((d) => JSON.stringify(d.labels)) });
  assert.deepEqual(differ.map((d) => JSON.stringify(d.labels)).slice(0, 5), [], `${differ.length} compose files differ: docker-compose would label containers differently from ocm`);
});

test('docker-compose itself reads rendered files with the labels ocm sets (config)', { skip: hasReaders ? false : 'no /usr/bin/python3 with dotenv and yaml' }, async (t) => {
  const root = tempDir(t);
  // eslint-disable-next-line no-control-regex -- label values without control characters
  const plain = fc.stringMatching(/^[^\u0000-\u001f\u007f-\u009f]{0,20}$/);
  const labels = [...fc.sample(plain, { numRuns: 6, seed: 5 }), 'cost$center', 'a$$b', '${HOME}'];
  const refused: string[] = [];
  const relabelled: string[] = [];
  for (const [i, label] of labels.entries()) {
    let m;
    try {
      m = validateManifest({ settings: { labels: { 'x.label': label } }, users: [{ name: 'alice', port: 18800, memory: '1.5g', cpus: 0.25 }, { name: 'bob', port: 18801, enabled: i % 2 === 0 }] });
    } catch (error) {
      // ocm refuses "$" in labels itself, before compose could expand it.
      assert.ok(label.includes('$'), `${JSON.stringify(label)}: ${(error as Error).message}`);
      assert.match((error as Error).message, /would expand/);
      continue;
    }
    const dir = `${root}/r${i}`;
    const rendered = renderDeployment(m, { root: dir, tokens: new Map([['alice', 'ta'], ['bob', 'tb']]), templates });
    for (const f of rendered.files) {
      mkdirSync(`${dir}/${f.path}`.replace(/\/[^/]+$/, ''), { recursive: true });
      writeFileSync(`${dir}/${f.path}`, f.content, { mode: f.mode });
    }
    const r = await run('docker-compose', ['-f', `${dir}/docker-compose.yml`, '-p', 'ocmfuzz', 'config']);
    if (r.code !== 0) {
      refused.push(`${JSON.stringify(label)}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
      continue;
    }
    const config = yaml.load(r.stdout) as { services: Record<string, { labels?: Record<string, string> }> };
    const applied = config.services.alice?.labels?.['x.label'];
    if (applied !== label) relabelled.push(`${JSON.stringify(label)} -> ${JSON.stringify(applied)}`);
  }
  record(t, 'fuzz.readers.compose-config', { files: labels.length, refused, relabelled });
  assert.deepEqual([...refused, ...relabelled], [], 'label values ocm accepts that docker-compose refuses or changes');
});
