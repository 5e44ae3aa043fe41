// A second machine for tests: a network namespace joined to this host by a
// veth pair, on addresses of the test's choosing. Named ocmt-*, removed at the
// end (deleting the namespace takes its end of the veth, and so the pair).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestHost {
  /** Namespace name. */
  name: string;
  /** The test host's own address. */
  address: string;
  /** This machine's address as the test host sees it. */
  hostAddress: string;
  /** An executable that runs Chromium inside the namespace (for playwright's executablePath). */
  chromium: string;
  exec(cmd: string[]): Promise<{ stdout: string; stderr: string }>;
}

/**
 * Refuses a /24 this machine already routes: a second test host there would
 * be shadowed by the first (an interrupted run's host answers nothing, so
 * every probe would look refused).
 */
export async function rangeFree(prefix: string): Promise<void> {
  const { stdout } = await run('ip', ['route', 'show', `${prefix}.0/24`]);
  if (stdout.trim() !== '') {
    throw new Error(`the test range ${prefix}.0/24 is routed already (${stdout.trim()}): a test host of another run; node scripts/test-leftovers.mjs removes those of finished runs`);
  }
}

/** A test host on `${prefix}.2/24`, with this machine at `${prefix}.1`. */
export async function testHost(t: TestContext, prefix: string): Promise<TestHost> {
  const id = randomBytes(3).toString('hex');
  const name = `ocmt-${id}`;
  const outside = `ocmt${id}h`;
  const inside = `ocmt${id}n`;
  const dir = mkdtempSync(join(tmpdir(), 'ocm-host-'));
  t.after(async () => {
    await run('ip', ['netns', 'delete', name]).catch(() => undefined);
    await run('ip', ['link', 'delete', outside]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const ip = (...args: string[]) => run('ip', args);
  await rangeFree(prefix);
  await ip('netns', 'add', name);
  await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
  await ip('link', 'set', inside, 'netns', name);
  await ip('addr', 'add', `${prefix}.1/24`, 'dev', outside);
  await ip('link', 'set', outside, 'up');
  await ip('netns', 'exec', name, 'ip', 'addr', 'add', `${prefix}.2/24`, 'dev', inside);
  await ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
  await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  const chromium = join(dir, 'chromium');
  writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${name} /usr/bin/chromium "$@"\n`);
  chmodSync(chromium, 0o755);
  return {
    name,
    address: `${prefix}.2`,
    hostAddress: `${prefix}.1`,
    chromium,
    exec: (cmd) => run('ip', ['netns', 'exec', name, ...cmd]),
  };
}
