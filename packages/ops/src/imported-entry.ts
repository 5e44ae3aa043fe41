// The user entry inside an export, read through core's schema of it; split
// into what the add takes as the entry's own fields and as limits.
import { parseExportedUser, type User } from '@ocm/core';
import type { LimitOptions } from './user-fields.js';

export interface ImportedEntry {
  name: string;
  fields: Partial<Pick<User, 'enabled' | 'image' | 'egress' | 'budget'>>;
  limits: Pick<LimitOptions, 'cpus' | 'memory' | 'pids'>;
  envKeys: string[];
  /** The model group she was in at the source (exports from before it was recorded have none). */
  group?: string;
  /** The source root's own entries in her openclaw.json (exports from before they were recorded have none). */
  sourceGateway?: { allowedOrigins: string[]; trustedProxies: string[] };
}

export function importedEntry(file: string, raw: unknown): ImportedEntry {
  const { name, enabled, image, egress, budget, cpus, memory, pids, envKeys, group, sourceGateway } = parseExportedUser(file, raw);
  return {
    name,
    fields: { enabled, ...(image === undefined ? {} : { image }), ...(egress === undefined ? {} : { egress }), ...(budget === undefined ? {} : { budget }) },
    limits: { ...(cpus === undefined ? {} : { cpus }), ...(memory === undefined ? {} : { memory }), ...(pids === undefined ? {} : { pids }) },
    envKeys,
    ...(group === undefined ? {} : { group }),
    ...(sourceGateway === undefined ? {} : { sourceGateway }),
  };
}
