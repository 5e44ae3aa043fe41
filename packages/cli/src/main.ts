// The CLI's one exit point: run a command, turn any failure into
// `error: ...` / `hint: ...` and an exit code. Only bin/ocm touches process.
import { CommanderError } from 'commander';
import { OcmError, isOcmError } from '@ocm/core';
import { processIo, type Io } from './io.js';
import { createProgram } from './program.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const program = createProgram(io, {
    // The Docker side is loaded only when an edit needs it.
    afterEdit: async (cmd, event) => (await import('./runtime-hooks.js')).afterEdit(cmd, event, io),
    preflight: async (cmd, event, manifest, user) => (await import('./runtime-hooks.js')).preflight(cmd, event, manifest, user, io),
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
    const message = error.message.replace(/^error:\s*/, '').split('\n')[0] ?? error.message;
    io.err(`error: ${message}`);
    io.err(`hint: run \`ocm --help\` or \`ocm <command> --help\` for usage`);
    return EXIT_USAGE;
  }
  if (isOcmError(error) && error.isUserError) {
    io.err(`error: ${error.message.split('\n')[0] ?? error.message}`);
    io.err(`hint: ${error.hint}`);
    return error.code === 'OCM_E_USAGE' ? EXIT_USAGE : EXIT_ERROR;
  }
  const internal = error instanceof Error ? error : new Error(String(error));
  io.err(`error: internal error: ${internal.message}`);
  io.err(internal.stack ?? '');
  io.err(`hint: ${new OcmError('OCM_E_INTERNAL', '').hint}`);
  return EXIT_ERROR;
}
