// A private, unprivileged nginx on 127.0.0.1 serving ocm's rendered server
// blocks (<root>/nginx/*.conf): its own main config, pid, logs and temp paths.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startService, type Service } from './service.js';
import type { CertFiles } from './tls-cert.js';

export interface Nginx extends Service { port: number; workers: string; /** Its main config, pid and logs. */ dir: string }

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
  return launch(dir, mainConfig(dir, join(confDir, '*.conf'), options.workers), options.port, options.workers);
}

async function launch(dir: string, config: string, port: number, workers: string): Promise<Nginx> {
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);
  const service = await startService(`nginx (${workers} workers, :${port})`, 'nginx', ['-c', configPath, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    logFile: join(dir, 'stdout.log'),
    ready: async () => (await listening(port)) && readFileSync(join(dir, 'nginx.pid'), 'utf8').trim() !== '',
    stopSignal: 'SIGQUIT',
    timeoutMs: 15_000,
  });
  return { ...service, port, workers, dir };
}

export interface TunedOptions {
  port: number;
  upstreamPort: number;
  host: string;
  stream?: boolean;
  /** HTTPS with this pair, and a tuning guide's TLS settings (see tlsLines). */
  tls?: CertFiles;
}

/**
 * A tuning guide's TLS settings: only TLS 1.2 and 1.3, a session cache shared
 * by the workers (resumed sessions skip the full handshake) kept an hour, and
 * client connections kept open longer and for more requests than nginx's
 * defaults (75 s, 1000 requests), so a busy client rarely pays a handshake.
 */
function tlsLines(tls: CertFiles): string {
  return `
    ssl_certificate ${tls.certificate};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
    keepalive_timeout 75s;
    keepalive_requests 10000;`;
}

/**
 * What an admin gets from a tuning guide for one upstream: a pool of idle
 * connections (keepalive 64), HTTP/1.1 and an empty Connection header towards
 * it (but "upgrade" for a WebSocket, or the gateway's WebSocket would not
 * pass), bigger proxy buffers (8 x 64k: 4 x 20 MB downloads went from about
 * 880 to 1050 MB/s with them), and the headers the gateway needs. Same main settings as the
 * rendered side (1 worker here, access_log off, worker_connections 1024).
 */
/** `stream`: answers pass on as they come (proxy_buffering off), as a model's streamed answer needs. */
export function tunedServerConfig(options: TunedOptions): string {
  return `map $http_upgrade $tuned_connection {
    default upgrade;
    ''      "";
}

upstream tuned_gateway {
    server 127.0.0.1:${options.upstreamPort};
    keepalive 64;
}

server {
    listen 127.0.0.1:${options.port}${options.tls === undefined ? '' : ' ssl'};
    server_name ${options.host};${options.tls === undefined ? '' : tlsLines(options.tls)}

    location / {
        proxy_pass http://tuned_gateway;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $tuned_connection;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;${options.stream === true ? '\n        proxy_buffering off;' : ''}
        proxy_buffer_size 64k;
        proxy_buffers 8 64k;
        proxy_busy_buffers_size 128k;
    }
}
`;
}

/** nginx with tunedServerConfig() as its only server, 1 worker. */
export async function startTunedNginx(dir: string, options: TunedOptions): Promise<Nginx> {
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const serverPath = join(dir, 'tuned.conf');
  writeFileSync(serverPath, tunedServerConfig(options));
  return launch(dir, mainConfig(dir, serverPath, '1'), options.port, '1');
}

/** The files an nginx started here reads: its main config and every conf it includes, by path. */
export function nginxConfigFiles(dir: string): Record<string, string> {
  const main = readFileSync(join(dir, 'nginx.conf'), 'utf8');
  const files: Record<string, string> = { [join(dir, 'nginx.conf')]: main };
  for (const m of main.matchAll(/^\s*include (\S+);$/gm)) {
    const pattern = m[1] as string;
    const folder = pattern.endsWith('/*.conf') ? pattern.slice(0, -'/*.conf'.length) : undefined;
    const paths = folder === undefined ? [pattern] : readdirSync(folder).filter((f) => f.endsWith('.conf')).sort().map((f) => join(folder, f));
    for (const path of paths) files[path] = readFileSync(path, 'utf8');
  }
  return files;
}
