// The two nginx commands ocm needs, behind an interface so the applier's
// logic reads without subprocess details. One execa wrapper keeps stderr and
// the exit code on every failure.
import { execa, type ExecaError } from 'execa';
import { OcmError, quote } from '@ocm/core';
import { parseNginxError } from './nginx-error.js';

export interface NginxControl {
  /** `nginx -t`; rejects with OCM_E_NGINX_INVALID (details.file/line) when nginx refuses the config. */
  test(): Promise<void>;
  /** `nginx -s reload`; the running master re-reads its config. */
  reload(): Promise<void>;
}

export interface NginxCommandOptions {
  /** Default "nginx" from PATH. */
  binary?: string;
  /** Main config passed as `-c`; default nginx's compiled-in path. */
  configPath?: string;
  /** Error log given as `-e`, so an unprivileged nginx does not try its compiled-in log path. */
  errorLogPath?: string;
  /** How long one command may take (default 30 s). */
  timeoutMs?: number;
}

export function createNginxControl(options: NginxCommandOptions = {}): NginxControl {
  const binary = options.binary ?? 'nginx';
  const configArgs = [
    ...(options.configPath === undefined ? [] : ['-c', options.configPath]),
    ...(options.errorLogPath === undefined ? [] : ['-e', options.errorLogPath]),
  ];
  const run = async (args: string[]): Promise<void> => {
    try {
      await execa(binary, [...args, ...configArgs], { stdin: 'ignore', timeout: options.timeoutMs ?? 30_000 });
    } catch (err) {
      throw commandError(binary, args, err as ExecaError);
    }
  };
  return {
    test: () => run(['-t']),
    reload: () => run(['-s', 'reload']),
  };
}

function commandError(binary: string, args: string[], err: ExecaError): OcmError {
  const stderr = typeof err.stderr === 'string' ? err.stderr : '';
  const details = { command: `${binary} ${args.join(' ')}`, exitCode: err.exitCode, stderr };
  if (err.code === 'ENOENT' || err.code === 'EACCES') {
    return new OcmError('OCM_E_NGINX_MISSING', `nginx was not found at ${quote(binary)}`, { cause: err, details });
  }
  const diagnostic = parseNginxError(stderr || err.shortMessage);
  const where = diagnostic.file === undefined ? '' : ` in ${diagnostic.file}:${diagnostic.line ?? '?'}`;
  if (args[0] === '-t') {
    return new OcmError('OCM_E_NGINX_INVALID', `nginx rejected the config${where}: ${diagnostic.reason}`, {
      cause: err,
      details: { ...details, file: diagnostic.file, line: diagnostic.line },
    });
  }
  return new OcmError('OCM_E_NGINX_INVALID', `nginx -s reload failed${where}: ${diagnostic.reason}`, {
    cause: err,
    details,
    hint: 'the config passed `nginx -t` but nginx could not reload; check that nginx is running with the same -c config',
  });
}
