// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function and
// per file, and the wall span the samples cover. For the analysis of misses.
//   node --import tsx bench/tools/cpuprofile-summary.ts FILE.cpuprofile [top] [function-name]
// With a function name, also prints the call stacks that spent time in it.
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, topArg, callersOf] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file as string, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const shortUrl = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, 'nm:').replace(/^.*\/(packages|bench|dist)\//, '$1/') || '(native)';
const fnKey = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: Node): string => {
  const url = shortUrl(n.callFrame.url);
  const m = /^nm:((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? `nm:${m[1]}` : url;
};

function tally(key: (n: Node) => string): Array<[string, number]> {
  const out = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (n) out.set(key(n), (out.get(key(n)) ?? 0) + us);
  }
  return [...out].sort((a, b) => b[1] - a[1]);
}

const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = tally((n) => n.callFrame.functionName).find(([k]) => k === '(idle)')?.[1] ?? 0;
console.log(`span ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms, sampled ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms, busy ${((total - idle) / 1000).toFixed(0)} ms`);
console.log('\nself time by package/file:');
for (const [k, us] of tally(fileKey).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
console.log('\nself time by function:');
for (const [k, us] of tally(fnKey).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);

if (callersOf !== undefined) {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName !== callersOf) continue;
    const frames: string[] = [];
    for (let p = parent.get(id); p !== undefined && frames.length < 8; p = parent.get(p)) {
      const f = byId.get(p);
      if (f) frames.push(`${f.callFrame.functionName || '(anonymous)'} ${shortUrl(f.callFrame.url)}:${f.callFrame.lineNumber + 1}`);
    }
    const key = frames.join('\n      <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  console.log(`\ncallers of ${callersOf}:`);
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  <- ${k}`);
}
