// The real OpenClaw gateway image the benches that need it run (built by
// scripts/build-gateway-image.sh; OCM_BENCH_OPENCLAW_VERSION picks another tag).
import { spawnSync } from 'node:child_process';

export const REAL_IMAGE = `ocm-openclaw:${process.env.OCM_BENCH_OPENCLAW_VERSION ?? '2026.9.6'}`;

/** Throws a one-line error with the command that builds it when the image is missing. */
export function requireRealImage(): void {
  if (spawnSync('docker', ['image', 'inspect', REAL_IMAGE], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${REAL_IMAGE} is missing: run scripts/build-gateway-image.sh first`);
  }
}
