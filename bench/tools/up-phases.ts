// Where a no-op `ocm up` spends its time, phase by phase, with the same
// packages the CLI uses (imports timed separately, since the CLI loads them
// on demand too). Usage: node --conditions=ocm-source --import tsx bench/tools/up-phases.ts <root> [runs]
const t = (): number => Number(process.hrtime.bigint()) / 1e6;
const [root, runsArg] = process.argv.slice(2);
const phases = new Map<string, number[]>();
const mark = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const s = t();
  const v = await fn();
  phases.set(name, [...(phases.get(name) ?? []), t() - s]);
  return v;
};

const dockerode = await mark('import dockerode (cold)', () => import('dockerode'));
void dockerode;
const { DeploymentRoot } = await import('@ocm/store');
const { DockerEngine, planReconcile } = await import('@ocm/engine');
const { LABEL_ROOT } = await import('@ocm/core');
for (let i = 0; i < Number(runsArg ?? 5); i++) {
  const r = new DeploymentRoot(root as string);
  const engine = new DockerEngine();
  await mark('docker ping', () => engine.ping());
  const { manifest, rendered } = await mark('lock + load + render (all users)', () =>
    r.locked(async () => {
      const { manifest } = await mark('  load ocm.yaml', () => r.load());
      const rendered = await mark('  render', () => r.render(manifest));
      await mark('  apply (compare, write changed)', () => r.apply(rendered));
      return { manifest, rendered };
    }),
  );
  await mark('image inspect', () => engine.imageExists(manifest.settings.image));
  const actual = await mark('list containers', () => engine.list({ labels: { [LABEL_ROOT]: rendered.plan.root } }));
  await mark('plan reconcile', async () => planReconcile(rendered.plan.users, actual, { root: rendered.plan.root }));
}
for (const [name, values] of phases) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(`${name.padEnd(36)} median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1).padStart(7)} ms  (n=${values.length})`);
}
