// nginx mode: after a command changed the rendered files, the CLI itself
// tests and reloads nginx (with or without a daemon), so the command that
// caused a refusal reports it and exits non-zero. nginx missing or not
// running is a warning: the files are right, nginx loads them when it starts.
import type { Command } from 'commander';
import { OcmError } from '@ocm/core';
import { opsContext } from './context.js';
import type { Io } from './io.js';

/** Pure: a reload that failed only because no nginx master runs (no pid file, or a stale one). */
export function notRunning(error: OcmError): boolean {
  const stderr = error.details['stderr'];
  return error.code === 'OCM_E_NGINX_INVALID' && /reload failed/.test(error.message) && /nginx\.pid|invalid PID|No such process/i.test(`${error.message} ${typeof stderr === 'string' ? stderr : ''}`);
}

export async function syncNginx(cmd: Command, io: Io): Promise<void> {
  const ctx = opsContext(cmd, io);
  const { manifest } = await ctx.root.load();
  if (manifest.settings.proxy.mode !== 'nginx') return;
  const { applyNginxOnce, nginxApplierFor, nginxControlFor } = await import('@ocm/daemon/nginx-sync');
  const control = nginxControlFor(manifest);
  try {
    const { result } = await applyNginxOnce(ctx.root, manifest, control, nginxApplierFor(ctx.root, manifest, control), () => true);
    if (result?.reloaded === true) io.err(`nginx tested and reloaded${result.written.length + result.removed.length > 0 ? ` (${[...result.written.map((f) => `wrote ${f}`), ...result.removed.map((f) => `removed ${f}`)].join(', ')})` : ''}`);
  } catch (caught) {
    const error = caught instanceof OcmError ? caught : new OcmError('OCM_E_INTERNAL', (caught as Error).message);
    if (error.code === 'OCM_E_NGINX_MISSING') return io.err(`warning: ${error.message}; browsers reach no user until nginx is installed and runs (or settings.proxy.mode is embedded)`);
    if (notRunning(error)) return io.err('warning: nginx is not running; it accepts the new files (nginx -t) and serves them once it starts');
    throw new OcmError(error.code === 'OCM_E_NGINX_INVALID' ? 'OCM_E_NGINX_INVALID' : error.code, `${error.message}; nginx keeps serving its previous config`, {
      cause: error,
      hint: 'fix what nginx names (a file of yours, or settings.tls / settings.proxy.nginx in ocm.yaml), then run `ocm render`',
      details: error.details,
    });
  }
}
