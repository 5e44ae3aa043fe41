// A private nginx on 127.0.0.1 for one test: its own main config, pid, logs
// and temp paths under dir, including dir/conf.d/*.conf (where ocm's files
// go). Stopped, by its own pid, when the test ends.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { waitFor } from '../../support/wait.js';
import { run } from './measure.js';

export interface TestNginx { port: number; configPath: string; confDir: string; pid: number }

export function mainConfig(dir: string, port: number): string {
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  server { listen 127.0.0.1:${port} default_server; server_name _; return 404; }
  include ${dir}/conf.d/*.conf;
}
`;
}

export async function startNginx(t: TestContext, dir: string, port: number): Promise<TestNginx> {
  mkdirSync(`${dir}/conf.d`, { recursive: true });
  mkdirSync(`${dir}/temp`, { recursive: true });
  const configPath = `${dir}/nginx.conf`;
  writeFileSync(configPath, mainConfig(dir, port));
  const child = spawn('nginx', ['-c', configPath, '-e', `${dir}/error.log`, '-g', 'daemon off;'], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGQUIT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    }
  });
  await waitFor(async () => (await run('nginx', ['-t', '-c', configPath, '-e', `${dir}/error.log`])).code === 0 && child.exitCode === null && (await import('node:fs')).existsSync(`${dir}/nginx.pid`), { what: 'nginx started', timeoutMs: 10_000 });
  return { port, configPath, confDir: `${dir}/conf.d`, pid };
}
