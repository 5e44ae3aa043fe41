// Figures a suite measured: shown as a test diagnostic and, when
// OCM_RELIABILITY_OUT names a file, appended to it as one JSON line
// (RELIABILITY.md is written from those lines).
import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

export function record(t: TestContext, area: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ area, at: new Date().toISOString(), ...figures });
  t.diagnostic(line);
  const out = process.env.OCM_RELIABILITY_OUT;
  if (out !== undefined && out !== '') appendFileSync(out, `${line}\n`);
}
