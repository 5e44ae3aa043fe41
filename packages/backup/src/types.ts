// The small interfaces the backup package needs from the outside world, so it
// never imports the engine or the store: the wiring happens in the daemon/CLI.

/** Wall clock, injected so names, retention and tests are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** What the backup needs from a user's container (one real implementation wraps the engine). */
export interface ContainerControl {
  isRunning(): Promise<boolean>;
  /**
   * Which run of the container this is (id, status, start time; "missing"
   * when there is none): equal before and after a read only if the container
   * was not started meanwhile.
   */
  runToken?(): Promise<string>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export type ConsistencyMode = 'pause' | 'stop' | 'none';

/** Keeps the source trees still while they are read: enter() before, leave() after. */
export interface ConsistencyGuard {
  readonly mode: ConsistencyMode;
  /** False when enter() found nothing to hold still (container not running): nothing was frozen. */
  readonly acted?: boolean;
  enter(): Promise<void>;
  leave(): Promise<void>;
  /**
   * When nothing writes the trees right now (the container is not running):
   * a check that stays true only while that holds, so the live trees can be
   * read directly and the read trusted afterwards. undefined otherwise.
   */
  whileIdle?(): Promise<(() => Promise<boolean>) | undefined>;
}

/** The two trees of a user, archived under their prefix (`state/...`, `config/...`). */
export interface BackupSource {
  dir: string;
  prefix: 'state' | 'config';
}

/** pino-compatible subset, so a child logger can be passed straight in. */
export interface BackupLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}
