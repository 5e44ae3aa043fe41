// A private nginx on 127.0.0.1 for one test: its own main config, pid, logs
// and temp paths in a temp dir, and `dir/conf.d/*.conf` included, which is where
// the daemon under test applies ocm's files. Stopped, then removed, when the test ends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { httpJson, waitFor } from '../../../../test/support/wait.js';

export interface TestNginx {
  port: number;
  configPath: string;
  confDir: string;
}

export async function startNginx(t: TestContext, port: number): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-nginx-'));
  const confDir = `${dir}/conf.d`;
  const temp = `${dir}/temp`;
  mkdirSync(confDir, { recursive: true });
  mkdirSync(temp, { recursive: true });
  const configPath = `${dir}/nginx.conf`;
  // As root nginx would run its workers as "nobody", who cannot enter the private temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  writeFileSync(configPath, `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp}/client_body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  # What a host's own nginx has: a default server, so no name falls through to a user.
  server { listen 127.0.0.1:${port} default_server; server_name _; return 444; }
  include ${confDir}/*.conf;
}
`);
  const child = spawn('nginx', ['-c', configPath, '-e', `${dir}/error.log`, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${output}`);
      await httpJson(`http://127.0.0.1:${port}/`, { timeoutMs: 500 }).catch((err: NodeJS.ErrnoException) => {
        // 444 closes the connection without an answer: that still means nginx listens.
        if (err.code !== 'ECONNRESET' && !/socket hang up/.test(err.message)) throw err;
      });
      return readFileSync(`${dir}/nginx.pid`, 'utf8').trim() === String(child.pid);
    }, { timeoutMs: 10_000, what: 'nginx listening' });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}\n${readFileSync(`${dir}/error.log`, 'utf8')}`);
  }
  return { port, configPath, confDir };
}
