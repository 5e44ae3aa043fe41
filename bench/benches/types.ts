// The shape of one bench: a name to select it by, a title, and a run that
// returns result rows (and notes) for the report.
import type { Ctx } from '../lib/context.js';
import type { Row } from '../lib/report.js';

export interface BenchOutput { rows: Row[]; notes: string[] }

export interface Bench {
  name: string;
  title: string;
  run(ctx: Ctx): Promise<BenchOutput>;
}
