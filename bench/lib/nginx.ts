// A private, unprivileged nginx on 127.0.0.1 serving ocm's rendered server
// blocks (<root>/nginx/*.conf): its own main config, pid, logs and temp paths.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startService, type Service } from './service.js';

export interface Nginx extends Service { port: number; workers: string }

function mainConfig(dir: string, include: string, workers: string): string {
  const temp = join(dir, 'temp');
  // As root nginx would run workers as "nobody", who cannot enter a private temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes ${workers};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(temp, 'client_body')};
  proxy_temp_path ${join(temp, 'proxy')};
  fastcgi_temp_path ${join(temp, 'fastcgi')};
  uwsgi_temp_path ${join(temp, 'uwsgi')};
  scgi_temp_path ${join(temp, 'scgi')};
  include ${include};
}
`;
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Starts nginx on the rendered confs of `root`. With `port` different from the
 * rendered one, it serves a copy of the confs with only the listen port changed.
 */
export async function startNginx(dir: string, root: string, options: { renderedPort: number; port: number; workers: string }): Promise<Nginx> {
  mkdirSync(join(dir, 'temp'), { recursive: true });
  let confDir = join(root, 'nginx');
  if (options.port !== options.renderedPort) {
    const copy = join(dir, 'conf.d');
    cpSync(confDir, copy, { recursive: true });
    for (const file of readdirSync(copy)) {
      const path = join(copy, file);
      writeFileSync(path, readFileSync(path, 'utf8').replaceAll(`127.0.0.1:${options.renderedPort};`, `127.0.0.1:${options.port};`));
    }
    confDir = copy;
  }
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, mainConfig(dir, join(confDir, '*.conf'), options.workers));
  const service = await startService(`nginx (${options.workers} workers, :${options.port})`, 'nginx', ['-c', configPath, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    logFile: join(dir, 'stdout.log'),
    ready: async () => (await listening(options.port)) && readFileSync(join(dir, 'nginx.pid'), 'utf8').trim() !== '',
    stopSignal: 'SIGQUIT',
    timeoutMs: 15_000,
  });
  return { ...service, port: options.port, workers: options.workers };
}
