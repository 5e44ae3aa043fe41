// One self-overwriting status line on a TTY; silent when piped, so logs and
// scripts only see the final result lines.
import type { HealthProgress, PullProgress, ReconcileEvent } from '@ocm/engine';
import type { Io } from './io.js';

/** Plain functions (no `this`), so they can be handed on as callbacks. */
export interface Progress {
  readonly health: (p: HealthProgress) => void;
  readonly pull: (image: string, p: PullProgress) => void;
  readonly event: (e: ReconcileEvent) => void;
  readonly done: () => void;
}

export function progress(io: Io): Progress {
  let shown = false;
  const show = (text: string): void => {
    if (!io.isTTY) return;
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    shown = true;
  };
  return {
    health: (p) => show(`waiting for ${p.user} to become healthy: ${(p.elapsedMs / 1000).toFixed(1)}s (${p.state}, ${p.detail})`),
    pull: (image, p) => show(`pulling ${image}: ${p.status}${p.progress === undefined ? '' : ` ${p.progress}`}`),
    event: (e) => {
      if (e.status === 'begin' && e.kind !== 'leave') show(`${e.kind} ${e.user}: ${e.reason}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
