// Sizes and CPU counts are written by humans ("512m", "1.5"), stored as such in
// the manifest and converted to the exact numbers Docker wants.
import { OcmError, quote } from './errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i;

/** Smallest memory limit Docker accepts for a container (6 MiB). */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;

export function sizeProblem(text: string): string | undefined {
  const match = SIZE_PATTERN.exec(text.trim());
  if (match === null) return 'is not a size (use 512m or 2g)';
  const bytes = toBytes(match);
  if (!Number.isSafeInteger(bytes)) return 'is too large';
  if (bytes < MIN_MEMORY_BYTES) return 'is too small (at least 6m)';
  return undefined;
}

function toBytes(match: RegExpExecArray): number {
  const unit = UNITS[(match[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(match[1]) * unit);
}

/** Parse "512m", "2g", "1.5G", "2GiB" into bytes; throws OCM_E_SIZE_INVALID. */
export function parseSize(text: string, field = 'memory'): number {
  const problem = sizeProblem(text);
  if (problem !== undefined) {
    throw new OcmError('OCM_E_SIZE_INVALID', `${field}: ${quote(text)} ${problem}`, { details: { field, value: text } });
  }
  return toBytes(SIZE_PATTERN.exec(text.trim()) as RegExpExecArray);
}

/** The shortest exact human form of a byte count: 536870912 -> "512m". */
export function formatSize(bytes: number): string {
  for (const unit of ['t', 'g', 'm', 'k'] as const) {
    const factor = UNITS[unit] as number;
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}`;
}

export const MAX_CPUS = 1024;

export function cpusProblem(value: number): string | undefined {
  if (!Number.isFinite(value) || value <= 0) return 'must be a positive number of CPUs';
  if (value > MAX_CPUS) return `is more than ${MAX_CPUS} CPUs`;
  if (Math.round(value * 100) !== value * 100) return 'has more than two decimals';
  return undefined;
}

/** Parse "1.5" into a CPU count; throws OCM_E_CPUS_INVALID. */
export function parseCpus(text: string | number, field = 'cpus'): number {
  const value = typeof text === 'number' ? text : /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  const problem = cpusProblem(value);
  if (problem !== undefined) {
    throw new OcmError('OCM_E_CPUS_INVALID', `${field}: ${quote(text)} ${problem} (use 0.5, 1 or 2)`, { details: { field, value: text } });
  }
  return value;
}

export const MAX_PIDS = 1_000_000;

/** Parse "512" into a pids limit; throws OCM_E_PIDS_INVALID. */
export function parsePids(text: string | number, field = 'pids'): number {
  const value = typeof text === 'number' ? text : /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < 16 || value > MAX_PIDS) {
    throw new OcmError('OCM_E_PIDS_INVALID', `${field}: ${quote(text)} is not a process limit (use a whole number from 16 to ${MAX_PIDS}, e.g. 512)`, { details: { field, value: text } });
  }
  return value;
}
