// V8 doubles its young generation whenever a scavenge finds it busy, up to
// 16 MB per semi-space, and keeps those pages. Two kinds of command pay for
// it: the daemon, whose start-up alone grows it and which then idles (127 MB
// RSS with 50 users without this, 97 MB with it), and backup/restore, whose
// many short-lived 1 MiB buffers are freed only when a collection finds their
// small JS wrappers, which a big young generation postpones (peak RSS of a
// 367 MB backup: 140 MB without this, 122 MB with it). Figures and the
// throughput this costs under load are in BENCHMARKS.md.
import { setFlagsFromString } from 'node:v8';

/** Call before the imports that allocate; an unknown flag on another Node version is ignored. */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
