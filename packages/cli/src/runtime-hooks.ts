// After a manifest edit, bring that user's container in line. Until the
// runtime is wired in this only renders; see ops for the engine step.
import type { Command } from 'commander';
import type { EditEvent } from './commands/users.js';
import type { Io } from './io.js';

export async function afterEdit(_cmd: Command, _event: EditEvent, _io: Io): Promise<void> {
  // The container step lands with the engine integration.
}
