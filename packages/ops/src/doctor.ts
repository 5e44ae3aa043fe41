// `ocm doctor`: check what is really on the host against what ocm.yaml says,
// and give a fix for every finding.
import { stat } from 'node:fs/promises';
import { OcmError, rootLayout, type Manifest, type UserDeployment } from '@ocm/core';
import type { ContainerExec, ContainerReader, EngineHost, ImageStore } from '@ocm/engine';
import { probeUsable, usableFix } from './usable.js';
import { tlsChecks } from './tls-checks.js';
import { nodeFinding, swarmNodes } from './placement.js';
import { networkPolicyProblems, probeHostFromUser, OPEN_WARNING, SWARM_POLICY_WARNING, type PolicyContext } from './network-policy.js';

export interface Finding {
  scope: string;
  check: string;
  ok: boolean;
  /** Worth a look, but not a failure (ok stays true). */
  warn?: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorExtras {
  /** Docker's version, when the engine can tell. */
  dockerVersion?: () => Promise<string>;
  /** nginx check for nginx mode: resolves with the version or throws. */
  nginxVersion?: (binary: string) => Promise<string>;
  /** nginx -t for nginx mode: resolves with the verdict or throws with nginx's error. */
  nginxTest?: (binary: string, config: string | undefined) => Promise<string>;
}

async function modeOf(path: string): Promise<{ mode: number; uid: number; gid: number } | undefined> {
  try {
    const s = await stat(path);
    return { mode: s.mode & 0o777, uid: s.uid, gid: s.gid };
  } catch {
    return undefined;
  }
}

async function fileChecks(root: string, manifest: Manifest, user: UserDeployment): Promise<Finding[]> {
  const out: Finding[] = [];
  const { uid, gid } = manifest.settings.gateway;
  const paths = rootLayout(root).user(user.name);
  for (const dir of ['state', 'config'] as const) {
    const path = paths[dir];
    const m = await modeOf(path);
    const ok = m !== undefined && m.mode === 0o700 && m.uid === uid && m.gid === gid;
    out.push({
      scope: user.name, check: `${dir}-dir`, ok,
      detail: m === undefined ? `${path} is missing` : `${path} is ${m.mode.toString(8)} owned by ${m.uid}:${m.gid}`,
      ...(ok ? {} : { fix: m === undefined ? 'run `ocm render`' : `chown ${uid}:${gid} ${path} && chmod 700 ${path}` }),
    });
  }
  const env = paths.env;
  const e = await modeOf(env);
  out.push({
    scope: user.name, check: 'env-file', ok: e?.mode === 0o600,
    detail: e === undefined ? `${env} is missing` : `${env} is ${e.mode.toString(8)}`,
    ...(e?.mode === 0o600 ? {} : { fix: e === undefined ? 'run `ocm render`' : `chmod 600 ${env}` }),
  });
  return out;
}

async function containerChecks(engine: ContainerReader, manifest: Manifest, user: UserDeployment): Promise<Finding[]> {
  const info = await engine.find(user.container.name);
  if (info === undefined) {
    return user.enabled ? [{ scope: user.name, check: 'container', ok: false, detail: `${user.container.name} does not exist`, fix: `ocm up ${user.name}` }] : [];
  }
  const running = info.state === 'running';
  const findings: Finding[] = [{
    scope: user.name, check: 'container', ok: running || !user.enabled,
    detail: `${user.container.name} is ${info.state} (restarts: ${info.restartCount})`,
    ...(running || !user.enabled ? {} : { fix: `ocm start ${user.name}; if it fails, ocm logs ${user.name}` }),
  }];
  const current = info.labels['ocm.spec-hash'] === user.specHash;
  findings.push({
    scope: user.name, check: 'spec-current', ok: current,
    detail: current ? 'container matches ocm.yaml' : 'container was created from an older ocm.yaml',
    ...(current ? {} : { fix: `ocm up ${user.name}` }),
  });
  for (const f of await engine.hardening(user.container.name, user)) {
    const fix = f.fix ?? (f.ok ? undefined : `ocm up ${user.name} recreates it as rendered; never edit ocm containers by hand`);
    findings.push({ scope: user.name, check: f.check, ok: f.ok, ...(f.warn === true ? { warn: true } : {}), detail: f.detail, ...(fix === undefined ? {} : { fix }) });
  }
  if (running) {
    // What alice would see: /healthz alone answers even when every browser is refused.
    const usable = await probeUsable(manifest, user.name, user.container.hostPort);
    findings.push({
      scope: user.name, check: 'usable', ok: usable.health === 'healthy', detail: usable.detail,
      ...(usable.health === 'healthy' ? {} : { fix: usable.health === 'refusing' ? usableFix(user.name, usable.detail) : `ocm logs ${user.name}; ocm restart ${user.name}` }),
    });
  }
  return findings;
}

/** The rules in place, and one refused connection from each running gateway to the host. */
async function policyChecks(ctx: PolicyContext & { engine: ContainerReader & ContainerExec }, manifest: Manifest, users: UserDeployment[], docker: boolean): Promise<Finding[]> {
  let checked;
  try {
    checked = await networkPolicyProblems(ctx, manifest);
  } catch (error) {
    return [{ scope: 'network', check: 'policy-rules', ok: false, detail: (error as Error).message, fix: (error as OcmError).hint ?? 'check iptables' }];
  }
  const { plan, problems, foreign } = checked;
  if (manifest.settings.engine === 'swarm') {
    return [{ scope: 'network', check: 'policy', ok: problems.length === 0, warn: true, detail: `warning: ${SWARM_POLICY_WARNING}`, fix: 'use settings.engine: docker for users who must not reach the LAN' }];
  }
  const others: Finding[] = foreign.length === 0 ? [] : [{
    scope: 'network', check: 'policy-foreign', ok: false,
    detail: `traffic from this deployment's pool also goes to ${[...new Set(foreign.map((f) => f.chain))].join(', ')} (${foreign.map((f) => `${f.hook} -s ${f.source}`).join(', ')}): another deployment's rules, or rules left by a root removed without \`ocm down\`; they can refuse what this policy allows`,
    fix: `if no deployment uses them any more: ${[...foreign.map((f) => `iptables -D ${f.hook} -s ${f.source} -j ${f.chain}`), ...[...new Set(foreign.map((f) => f.chain))].map((c) => `iptables -F ${c}; iptables -X ${c}`)].join('; ')}`,
  }];
  if (plan.mode === 'open') {
    return [{ scope: 'network', check: 'policy', ok: problems.length === 0, detail: `warning: ${OPEN_WARNING}`, ...(problems.length === 0 ? {} : { fix: 'ocm up removes the rules left behind' }) }, ...others];
  }
  const findings: Finding[] = [{
    scope: 'network', check: 'policy-rules', ok: problems.length === 0,
    detail: problems.length === 0 ? (plan.chains.length === 0 ? 'no users, no rules' : `${plan.chains.map((c) => `${c.name} (${c.rules.length} rules, from ${c.from})`).join(', ')} in place`) : problems.map((p) => `${p.chain} ${p.problem}`).join('; '),
    ...(problems.length === 0 ? {} : { fix: 'ocm up (or a running ocm daemon) puts them back' }),
  }, ...others];
  if (!docker) return findings;
  for (const user of users) {
    if (!user.enabled) continue;
    const running = await ctx.engine.find(user.container.name).then((i) => i?.state === 'running', () => false);
    if (!running) continue;
    const probe = await probeHostFromUser(ctx.engine, manifest, user.name, user.container.name).catch((error: Error) => ({ user: user.name, target: '-', outcome: `probe failed: ${error.message}` }));
    const refused = probe.outcome !== 'open' && !probe.outcome.startsWith('probe failed');
    findings.push({
      scope: user.name, check: 'network-probe', ok: refused,
      detail: `a connection from the gateway to the host at ${probe.target}: ${probe.outcome}`,
      ...(refused ? {} : { fix: 'ocm up, then ocm doctor again' }),
    });
  }
  return findings;
}

export async function doctor(ctx: PolicyContext & { engine: EngineHost & ContainerReader & ContainerExec & ImageStore }, extras: DoctorExtras = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { manifest } = await ctx.root.load();
  const rendered = await ctx.root.render(manifest);
  const m = await modeOf(ctx.root.manifestPath);
  findings.push({ scope: 'root', check: 'manifest-mode', ok: m?.mode === 0o600, detail: `ocm.yaml is ${m?.mode.toString(8) ?? 'missing'}`, ...(m?.mode === 0o600 ? {} : { fix: `chmod 600 ${ctx.root.manifestPath}` }) });
  const stale = await ctx.root.check(rendered);
  findings.push({ scope: 'root', check: 'rendered-files', ok: stale.length === 0, detail: stale.length === 0 ? 'up to date' : `${stale.length} out of date: ${stale.map((s) => s.path).join(', ')}`, ...(stale.length === 0 ? {} : { fix: 'ocm render' }) });

  let docker = true;
  try {
    await ctx.engine.ping();
    const version = extras.dockerVersion === undefined ? 'reachable' : await extras.dockerVersion();
    findings.push({ scope: 'docker', check: 'reachable', ok: true, detail: version });
  } catch (error) {
    docker = false;
    findings.push({ scope: 'docker', check: 'reachable', ok: false, detail: (error as Error).message, fix: (error as OcmError).hint ?? 'start Docker' });
  }
  if (docker) {
    for (const image of new Set(rendered.plan.users.map((u) => u.container.image).concat(manifest.settings.image))) {
      const present = await ctx.engine.imageExists(image);
      findings.push({ scope: 'docker', check: 'image', ok: present, detail: `${image} ${present ? 'is present' : 'is not on this host'}`, ...(present ? {} : { fix: `docker pull ${image} (or build it), then ocm up` }) });
    }
  }
  if (manifest.settings.proxy.mode === 'nginx' && extras.nginxVersion !== undefined) {
    const binary = manifest.settings.proxy.nginx.binary;
    let installed = false;
    try {
      findings.push({ scope: 'nginx', check: 'installed', ok: true, detail: await extras.nginxVersion(binary) });
      installed = true;
    } catch (error) {
      findings.push({ scope: 'nginx', check: 'installed', ok: false, detail: (error as Error).message, fix: 'apt-get install nginx, or set settings.proxy.mode: embedded' });
    }
    // Only once nginx runs: a missing binary is one problem, not two.
    if (installed && extras.nginxTest !== undefined) {
      const config = manifest.settings.proxy.nginx.config;
      try {
        findings.push({ scope: 'nginx', check: 'config-valid', ok: true, detail: await extras.nginxTest(binary, config) });
      } catch (error) {
        findings.push({ scope: 'nginx', check: 'config-valid', ok: false, detail: (error as Error).message, fix: `fix the file named, then run \`${binary} -t${config === undefined ? '' : ` -c ${config}`}\`` });
      }
    }
  }
  // On a swarm: each user's pin names a ready node that can hold her state.
  const nodes = docker ? await swarmNodes(ctx.engine) : undefined;
  for (const user of rendered.plan.users) {
    findings.push(...(await fileChecks(ctx.root.path, manifest, user)));
    if (nodes !== undefined) findings.push({ scope: user.name, check: 'node', ...nodeFinding(manifest, nodes, user.name, user.container.node) });
    if (docker) findings.push(...(await containerChecks(ctx.engine, manifest, user)));
  }
  findings.push(...(await policyChecks(ctx, manifest, rendered.plan.users, docker)));
  findings.push(...(await tlsChecks(ctx.root.path, manifest)));
  return findings;
}
