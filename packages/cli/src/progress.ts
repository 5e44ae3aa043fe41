// What a long step is doing, per user, on stderr (stdout and --json stay
// the results alone). On a terminal: a live block with one line per user at
// work, redrawn in place by log-update (several users at once, cut to the
// width). Otherwise (cron, CI logs, ssh -T): one line per phase change, and a
// reminder every 15 s while a phase lasts, so no step is silent for long.
import type { HealthProgress, PullProgress, ReconcileEvent } from '@ocm/engine';
import type { Io } from './io.js';
import { Board, beginPhase, boardLines, changeLine, endWords, healthPhase, seconds } from './progress-board.js';

/** Plain functions (no `this`), so they can be handed on as callbacks. */
export interface Progress {
  readonly health: (p: HealthProgress) => void;
  readonly pull: (image: string, p: PullProgress) => void;
  readonly event: (e: ReconcileEvent) => void;
  /** A step's phase for a user (restore, backup); `detail` changes are redrawn but not logged. */
  readonly phase: (key: string, phase: string, detail?: string) => void;
  /** The key's step is over, with how it ended. */
  readonly finish: (key: string, words: string) => void;
  /** Prints results while work goes on: the live block is cleared for it and drawn again below. */
  readonly above: (write: () => void) => void;
  /** Clears the live block for good; call before printing the final results. */
  readonly done: () => void;
}

const REMIND_MS = 15_000;
const DETAIL_MS = 5_000;
const FRAME_MS = 100;

interface Drawer {
  draw(lines: string[]): void;
  clear(): void;
}

export function progress(io: Io, options: { tty?: boolean; now?: () => number } = {}): Progress {
  const tty = options.tty ?? process.stderr.isTTY === true;
  const now = options.now ?? (() => Date.now());
  const board = new Board();
  const lastLine = new Map<string, { at: number; detail: string }>();
  const waited = new Set<string>();
  const images = new Set<string>();

  // --- a terminal: a block redrawn on a timer -------------------------------------
  let drawer: Drawer | undefined;
  let loading = false;
  let timer: NodeJS.Timeout | undefined;
  const frame = (): void => {
    if (drawer === undefined) return;
    if (board.entries.size === 0) drawer.clear();
    else drawer.draw(boardLines(board, now(), Math.max(20, (process.stderr.columns || 100) - 1)));
  };
  const wake = (): void => {
    if (!tty) return;
    if (drawer === undefined && !loading) {
      loading = true;
      // Loaded on the first frame only: most commands never draw one.
      void import('log-update').then(({ createLogUpdate }) => {
        const update = createLogUpdate(process.stderr, { showCursor: true });
        drawer = { draw: (lines) => update(lines.join('\n')), clear: () => update.clear() };
        frame();
      }, () => undefined);
    }
    timer ??= setInterval(frame, FRAME_MS).unref();
  };

  // --- no terminal: a line per change -------------------------------------------------
  const log = (key: string, changed: boolean): void => {
    if (tty) return;
    const entry = board.entries.get(key);
    if (entry === undefined) return;
    const t = now();
    const last = lastLine.get(key);
    const due = changed || last === undefined || t - last.at >= REMIND_MS || (entry.detail !== last.detail && t - last.at >= DETAIL_MS);
    if (!due) return;
    lastLine.set(key, { at: t, detail: entry.detail });
    io.err(changeLine(entry, t));
  };

  const phase = (key: string, name: string, detail = ''): void => {
    const changed = board.set(key, name, detail, now());
    log(key, changed);
    wake();
  };
  const finish = (key: string, words: string): void => {
    const entry = board.end(key);
    lastLine.delete(key);
    if (!tty && entry !== undefined) io.err(`${key}: ${words} (${seconds(now() - entry.startedAt)})`);
    frame();
  };

  return {
    phase,
    finish,
    health: (p) => {
      waited.add(p.user);
      const { phase: name, detail } = healthPhase(p);
      phase(p.user, name, detail);
    },
    pull: (image, p) => {
      images.add(image);
      phase(image, 'pulling the image', `${p.status}${p.progress === undefined ? '' : ` ${p.progress}`}`.slice(0, 60));
    },
    event: (e) => {
      // A pull is over once users are worked on.
      for (const image of images) board.end(image);
      images.clear();
      if (e.status === 'begin') {
        const name = beginPhase(e);
        if (name !== undefined) phase(e.user, name);
        return;
      }
      if (board.entries.has(e.user)) finish(e.user, endWords(e, waited.has(e.user)));
    },
    above: (write) => {
      drawer?.clear();
      write();
      frame();
    },
    done: () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      board.entries.clear();
      drawer?.clear();
    },
  };
}
