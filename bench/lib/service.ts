// Long-running children (the daemon, a proxy, nginx): started with a
// readiness check raced against an early exit, stopped by pid, and always
// stopped by the run's cleanup even when a bench fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cleanup.js';

export interface Service {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves when the service is usable; polled by the caller's own loop. */
  ready: () => Promise<boolean>;
  timeoutMs?: number;
  /** Signal for a graceful stop (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

export async function startService(name: string, cmd: string, args: readonly string[], options: ServiceOptions): Promise<Service> {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: options.env ?? process.env, cwd: options.cwd });
  closeSync(fd);
  let exited: string | undefined;
  const done = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      resolve();
    });
    child.on('error', (err) => {
      exited = `could not start: ${err.message}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited !== undefined || child.pid === undefined) return;
    child.kill(options.stopSignal ?? 'SIGTERM');
    const stopped = await Promise.race([done.then(() => true), sleep(15_000).then(() => false)]);
    if (!stopped) {
      child.kill('SIGKILL');
      await done;
    }
  };
  const unregister = onCleanup(`stop ${name} (pid ${child.pid ?? '?'})`, stop);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      const log = readFileSync(options.logFile, 'utf8').slice(-3000);
      await unregister();
      throw new Error(`${name} ${exited} before it was ready; its log:\n${log}`);
    }
    if (await options.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      await unregister();
      throw new Error(`${name} was not ready within ${options.timeoutMs ?? 60_000} ms; log in ${options.logFile}`);
    }
    await sleep(100);
  }
  return { name, pid: child.pid as number, child, logFile: options.logFile, stop: unregister };
}
