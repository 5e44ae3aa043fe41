// The user entry inside an export, taken apart field by field: only what an
// export writes is read, each with its type checked here and its value checked
// by the manifest schema when the add validates it.
import { OcmError, type User } from '@ocm/core';
import type { LimitOptions } from './users.js';

export interface ImportedEntry {
  name: string;
  fields: Partial<Pick<User, 'enabled' | 'image' | 'egress' | 'budget'>>;
  limits: Pick<LimitOptions, 'cpus' | 'memory' | 'pids'>;
  envKeys: string[];
  /** The model group she was in at the source (exports from before it was recorded have none). */
  group: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(file: string, field: string): OcmError {
  return new OcmError('OCM_E_IMPORT_INVALID', `${file}: the exported user's ${field} is not valid`, { details: { file, field } });
}

function optional<T>(file: string, raw: Record<string, unknown>, key: string, ok: (v: unknown) => v is T): T | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (!ok(v)) throw bad(file, key);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isGroupName = (v: unknown): v is string => typeof v === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 4096 && v.every(isString);
const isEgress = (v: unknown): v is NonNullable<User['egress']> => isObject(v) && Object.keys(v).every((k) => k === 'allow') && isStrings(v['allow']);
const isBudget = (v: unknown): v is NonNullable<User['budget']> =>
  isObject(v) && Object.keys(v).every((k) => k === 'daily' || k === 'monthly') && Object.values(v).every(isNumber);

export function importedEntry(file: string, raw: unknown): ImportedEntry {
  if (!isObject(raw)) throw bad(file, 'entry');
  const name = optional(file, raw, 'name', isString);
  if (name === undefined) throw bad(file, 'name');
  const fields: ImportedEntry['fields'] = {};
  const enabled = optional(file, raw, 'enabled', isBoolean);
  if (enabled !== undefined) fields.enabled = enabled;
  const image = optional(file, raw, 'image', isString);
  if (image !== undefined) fields.image = image;
  const egress = optional(file, raw, 'egress', isEgress);
  if (egress !== undefined) fields.egress = { allow: [...egress.allow] };
  const budget = optional(file, raw, 'budget', isBudget);
  if (budget !== undefined) fields.budget = { ...budget };
  const limits: ImportedEntry['limits'] = {};
  const cpus = optional(file, raw, 'cpus', isNumber);
  if (cpus !== undefined) limits.cpus = cpus;
  const memory = optional(file, raw, 'memory', isString);
  if (memory !== undefined) limits.memory = memory;
  const pids = optional(file, raw, 'pids', isNumber);
  if (pids !== undefined) limits.pids = pids;
  return { name, fields, limits, envKeys: optional(file, raw, 'envKeys', isStrings) ?? [], group: optional(file, raw, 'group', isGroupName) };
}
