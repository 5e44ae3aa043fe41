// What the meter needs from the manifest, read fresh for every call so a
// price or budget change applies to the next call without a restart.
import { budgetLimits, userNetwork, type BudgetLimits, type Manifest, type Provider } from '@ocm/core';

export interface MeterUser { subnet: string; limits: BudgetLimits }

export interface MeterConfig {
  providers: Readonly<Record<string, Provider>>;
  timezone: string;
  users: ReadonlyMap<string, MeterUser>;
}

export function meterConfig(manifest: Manifest): MeterConfig {
  const users = new Map<string, MeterUser>();
  for (const user of manifest.users) {
    users.set(user.name, { subnet: userNetwork(manifest, user).subnet, limits: budgetLimits(manifest, user.name) });
  }
  return { providers: manifest.settings.models?.providers ?? {}, timezone: manifest.settings.timezone, users };
}
