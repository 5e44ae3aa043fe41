// The commander program: global options and every command, registered from
// one small module each. Nothing here prints errors or exits.
import { Command } from 'commander';
import type { Io } from './io.js';
import { registerUserCommands, type AfterEdit, type Preflight } from './commands/users.js';
import { registerDeploymentCommands } from './commands/deployment.js';
import { registerRuntimeCommands } from './commands/runtime.js';
import { registerBackupCommands } from './commands/backups.js';
import { registerDaemonCommands } from './commands/daemon.js';
import { registerDeviceCommands } from './commands/devices.js';
import { registerUsageCommands } from './commands/usage.js';
import { registerTlsCommands } from './commands/tls.js';
import { registerTransferCommands } from './commands/transfer.js';

export const VERSION = '0.1.0';

export interface ProgramHooks { afterEdit: AfterEdit; preflight: Preflight }

export function createProgram(io: Io, hooks: ProgramHooks): Command {
  const program = new Command('ocm')
    .description('one isolated OpenClaw gateway per person on this server')
    .version(VERSION, '-V, --version')
    .option('--root <dir>', 'deployment root (default: $OCM_ROOT or /opt/ocm)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')), outputError: () => undefined });
  program.addHelpText('after', '\nStart here:\n  ocm init && ocm add alice   then browse http://alice.localhost:8080 (with `ocm daemon` running)');
  registerDeploymentCommands(program, io);
  registerUserCommands(program, io, hooks);
  registerRuntimeCommands(program, io);
  registerBackupCommands(program, io);
  registerDaemonCommands(program, io);
  registerDeviceCommands(program, io);
  registerUsageCommands(program, io);
  registerTlsCommands(program, io);
  registerTransferCommands(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ outputError: () => undefined });
  return program;
}
