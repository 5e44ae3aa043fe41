// Freezing (docker pause) or stopping a user's container while its trees are
// read; a container that is not running is already still and is left alone.
import type { ConsistencyGuard, ConsistencyMode, ContainerControl } from './types.js';

export const noGuard: ConsistencyGuard = { mode: 'none', enter: async () => undefined, leave: async () => undefined };

export function guardFor(mode: ConsistencyMode, control: ContainerControl): ConsistencyGuard {
  if (mode === 'none') return noGuard;
  // Set before acting, so a pause/stop that failed half-way is still undone.
  let acted = false;
  let everActed = false;
  return {
    mode,
    get acted() {
      return everActed;
    },
    async enter() {
      acted = false;
      if (!(await control.isRunning())) return;
      acted = true;
      everActed = true;
      await (mode === 'pause' ? control.pause() : control.stop());
    },
    async leave() {
      if (!acted) return;
      acted = false;
      await (mode === 'pause' ? control.unpause() : control.start());
    },
    async whileIdle() {
      const runToken = control.runToken?.bind(control);
      if (runToken === undefined) return undefined;
      const before = await runToken();
      if (await control.isRunning()) return undefined;
      return async () => (await runToken()) === before && !(await control.isRunning());
    },
  };
}

/** Wraps a guard so leave() is idempotent and the frozen time (enter start .. leave end) is measured. */
export class FrozenWindow {
  private started: number | undefined;
  private ended: number | undefined;
  private leaving: Promise<void> | undefined;

  constructor(private readonly guard: ConsistencyGuard) {}

  async enter(): Promise<void> {
    this.started = performance.now();
    await this.guard.enter();
  }

  leave(): Promise<void> {
    if (this.started === undefined) return Promise.resolve();
    this.leaving ??= this.guard.leave().finally(() => {
      this.ended = performance.now();
    });
    return this.leaving;
  }

  get frozenMs(): number {
    // A stopped container was not frozen at all, however long the copy took.
    if (this.started === undefined || this.guard.acted === false) return 0;
    return Math.round((this.ended ?? performance.now()) - this.started);
  }
}
