// Ctrl-C during a command that must not stop half way: the first SIGINT,
// SIGTERM or SIGHUP asks the operation to stop and take back what it did (an
// AbortSignal it checks between steps); a second one stops the process at
// once, as the signal would have without us.
import type { Io } from './io.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface InterruptGuard {
  signal: AbortSignal;
  /** Back to the default handling; call when the operation ended either way. */
  release(): void;
}

/** `undo` says, in a few words, what the first signal leads to ("taking the import back"). */
export function guardInterrupts(io: Io, undo: string): InterruptGuard {
  const controller = new AbortController();
  const handlers = new Map<NodeJS.Signals, () => void>();
  const release = (): void => {
    for (const [name, handler] of handlers) process.off(name, handler);
    handlers.clear();
  };
  for (const name of SIGNALS) {
    const handler = (): void => {
      if (!controller.signal.aborted) {
        io.err(`${name}: ${undo} (send it again to stop at once and leave it half done)`);
        controller.abort();
        return;
      }
      release();
      process.kill(process.pid, name);
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return { signal: controller.signal, release };
}
