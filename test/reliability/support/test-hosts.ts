// Stand-in machines for network tests: a network namespace joined to the
// host by a veth pair, addressed from one of the ranges these tests own
// (192.168.207.0/24 for a "LAN" host, 198.51.100.0/24 for an "Internet"
// host), with TCP listeners inside. Everything is named ocmt-np*/np* and
// removed in t.after, even when the test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { rangeFree } from '../../support/netns.js';
import { run } from './measure.js';

export interface TestHost { ns: string; address: string; hostSide: string; hostAddress: string }

// Answers every connection with its name, so a probe sees whom it reached.
const LISTEN = `const net=require('net');for(const p of process.argv.slice(1)){net.createServer((s)=>{s.on('error',()=>{});s.end(process.env.NAME+'\\n')}).listen(+p,'0.0.0.0')}console.log('ready')`;

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** A namespace at `<prefix>.2/24` behind the host's `<prefix>.1`, with listeners on the given ports. */
export async function testHost(t: TestContext, label: string, prefix: string, ports: number[]): Promise<TestHost> {
  const id = `${process.pid % 100000}${label.slice(0, 1)}`;
  const ns = `ocmt-np-${label}-${process.pid}`;
  const hostSide = `np${id}h`;
  const inside = `np${id}n`;
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await run('ip', ['netns', 'del', ns]);
    await run('ip', ['link', 'del', hostSide]);
  });
  await rangeFree(prefix);
  await must('ip', ['netns', 'add', ns]);
  await must('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', inside]);
  await must('ip', ['link', 'set', inside, 'netns', ns]);
  await must('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', hostSide]);
  await must('ip', ['link', 'set', hostSide, 'up']);
  await must('ip', ['-n', ns, 'addr', 'add', `${prefix}.2/24`, 'dev', inside]);
  await must('ip', ['-n', ns, 'link', 'set', inside, 'up']);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${prefix}.1`]);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTEN, ...ports.map(String)], { env: { ...process.env, NAME: label }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} listeners did not start`)), 10_000);
    child.stdout?.once('data', () => { clearTimeout(timer); resolve(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${label} listeners exited with ${code}`)); });
  });
  return { ns, address: `${prefix}.2`, hostSide, hostAddress: `${prefix}.1` };
}
