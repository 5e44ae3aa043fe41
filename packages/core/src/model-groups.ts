// Membership of settings.models.groups as a user moves between roots: the
// group she was in travels by name, and joins her only to a group of that
// name the target root already has (its budget is that root's admin's).
import type { Manifest } from './manifest-schema.js';

/** The model group `name` is a member of, if any. */
export function groupOf(manifest: Manifest, name: string): string | undefined {
  const groups = manifest.settings.models?.groups ?? {};
  return Object.keys(groups).find((g) => groups[g]?.members.includes(name) === true);
}

/** `name` added to the members of `group`; undefined when this manifest has no such group. */
export function joinGroup(manifest: Manifest, name: string, group: string): Manifest | undefined {
  const models = manifest.settings.models;
  const entry = models === undefined || !Object.hasOwn(models.groups, group) ? undefined : models.groups[group];
  if (models === undefined || entry === undefined) return undefined;
  if (entry.members.includes(name)) return manifest;
  const groups = { ...models.groups, [group]: { ...entry, members: [...entry.members, name] } };
  return { ...manifest, settings: { ...manifest.settings, models: { ...models, groups } } };
}

/** `name` taken out of every group's members (the groups themselves stay). */
export function leaveGroups(manifest: Manifest, name: string): Manifest {
  const models = manifest.settings.models;
  if (models === undefined || groupOf(manifest, name) === undefined) return manifest;
  const groups = Object.fromEntries(Object.entries(models.groups).map(([g, entry]) => [g, { ...entry, members: entry.members.filter((m) => m !== name) }]));
  return { ...manifest, settings: { ...manifest.settings, models: { ...models, groups } } };
}
