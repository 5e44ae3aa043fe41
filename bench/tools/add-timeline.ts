// When did the gateway first answer /healthz, and when did `ocm add` return?
// Polls the new user's port every 20 ms while `ocm add` runs, so the gap
// between the two is the time ocm spends after the gateway is ready.
// Usage: node --import tsx bench/tools/add-timeline.ts <ocm-bin> <root> <name>
import { setTimeout as sleep } from 'node:timers/promises';
import { userPorts } from '../lib/bench-root.js';
import { healthy } from '../lib/health.js';
import { run } from '../lib/proc.js';

const [bin, root, name] = process.argv.slice(2) as [string, string, string];
const t0 = performance.now();
let added = false;
let healthyAt: number | undefined;
let containerAt: number | undefined;
const add = run(process.execPath, [bin, '--root', root, 'add', name]).finally(() => (added = true));
while (!added) {
  const port = userPorts(root).get(name);
  if (port !== undefined && containerAt === undefined) {
    const ps = await run('docker', ['ps', '-q', '--filter', `name=${name}$`], { check: false });
    if (ps.stdout.trim() !== '') containerAt = performance.now() - t0;
  }
  if (port !== undefined && healthyAt === undefined && (await healthy(port))) healthyAt = performance.now() - t0;
  await sleep(20);
}
const r = await add;
console.log(JSON.stringify({ returnedMs: Math.round(r.ms), containerRunningMs: containerAt && Math.round(containerAt), firstHealthyMs: healthyAt && Math.round(healthyAt), afterHealthyMs: healthyAt && Math.round(r.ms - healthyAt) }));
await run(process.execPath, [bin, '--root', root, 'remove', name]);
