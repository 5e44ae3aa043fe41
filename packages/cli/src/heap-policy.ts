// How V8 may use memory, per kind of command. Flags set here at run time take
// effect because V8 reads them at every collection; figures in BENCHMARKS.md.
//
// V8 doubles its young generation whenever a scavenge finds it busy, up to
// 16 MB per semi-space, and keeps those pages. Two kinds of command pay for
// it: the daemon, whose start-up alone grows it and which then idles (127 MB
// RSS with 50 users without this, 97 MB with it), and backup/restore, whose
// many short-lived 1 MiB buffers are freed only when a collection finds their
// small JS wrappers, which a big young generation postpones (peak RSS of a
// 367 MB backup: 140 MB without this, 122 MB with it).
import { setFlagsFromString } from 'node:v8';

/** Call before the imports that allocate; an unknown flag on another Node version is ignored. */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * For the long-running daemon: grow the old generation conservatively. By
 * default V8 lets it grow to a few times the live heap between full
 * collections; under proxy load the promoted per-request garbage took the
 * daemon from 97 MB to 166 MB RSS (50 users, wrk -c64) although its live
 * heap stayed near 20 MB. A 10 % growth step keeps it near the live heap.
 * (--optimize-for-size did the same here but also made the compiler favour
 * size: 4 x 20 MB downloads through the embedded proxy ran at 310-600 MB/s
 * with it and 620-1000 without, at the same peak RSS; 50 users under
 * wrk -c64 peaked at 102.7 MB with it and 102.4 MB with this.)
 */
export function favourMemoryOverSpeed(): void {
  keepYoungGenerationSmall();
  setFlagsFromString('--heap-growing-percent=10');
}
