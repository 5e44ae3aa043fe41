// Median, min and max of repeated measurements: what every comparison reports.
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('no measurements to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n: values.length, median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, values: [...values] };
}

/** Alternates which side runs first, so drift in machine load hits both sides alike. */
export async function alternate(reps: number, sides: Array<(rep: number) => Promise<void>>): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) await side(rep);
  }
}
