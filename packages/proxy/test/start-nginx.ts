// Runs a private, unprivileged nginx on 127.0.0.1 for one test file: its own
// main config, pid, logs and temp paths in `dir`, and `dir/conf.d/*.conf`
// included, which is where the applier under test writes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningNginx {
  pid: number;
  port: number;
  configPath: string;
  confDir: string;
  stop(): Promise<void>;
}

export async function startNginx(dir: string, options: { port: number; binary?: string }): Promise<RunningNginx> {
  const confDir = join(dir, 'conf.d');
  const configPath = join(dir, 'nginx.conf');
  await mkdir(confDir, { recursive: true });
  await mkdir(join(dir, 'temp'), { recursive: true });
  await writeFile(configPath, mainConfig(dir, confDir, options.port));

  const child = spawn(options.binary ?? 'nginx', ['-c', configPath, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const spawnFailed = once(child, 'error').then(([err]) => ({ err: err as Error }));

  // Ready means our master wrote its pid and something answers on the port; an early exit wins the race.
  const ready = waitForPort(options.port, 10_000)
    .then(() => waitForPidFile(join(dir, 'nginx.pid'), child.pid ?? -1, 10_000))
    .then(
      () => 'ready' as const,
      (err: unknown) => ({ err: String(err) }),
    );
  const first = await Promise.race([ready, exited, spawnFailed]);
  if (first !== 'ready') {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    child.kill('SIGKILL');
    throw new Error(`nginx did not start (${JSON.stringify(first)}):\n${output}\n${log}`);
  }
  const pid = child.pid ?? 0;
  return {
    pid,
    port: options.port,
    configPath,
    confDir,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGQUIT');
      const stopped = await Promise.race([exited.then(() => true), sleep(5_000, undefined, { ref: false }).then(() => false)]);
      if (!stopped) {
        process.kill(pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** A port that was free a moment ago, for servers that cannot listen on port 0 and report back. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function mainConfig(dir: string, confDir: string, port: number): string {
  const temp = join(dir, 'temp');
  // As root, nginx would run workers as "nobody", who cannot enter a private temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(temp, 'client_body')};
  proxy_temp_path ${join(temp, 'proxy')};
  fastcgi_temp_path ${join(temp, 'fastcgi')};
  uwsgi_temp_path ${join(temp, 'uwsgi')};
  scgi_temp_path ${join(temp, 'scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port} default_server;
    server_name _;
    return 404;
  }
  include ${confDir}/*.conf;
}
`;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await sleep(20);
  }
}

async function waitForPidFile(path: string, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readFile(path, 'utf8').catch(() => '')).trim() !== String(pid)) {
    if (Date.now() > deadline) throw new Error(`${path} never named pid ${pid}`);
    await sleep(20);
  }
}
