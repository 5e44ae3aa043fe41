// The env file is the only place secrets live; parse it the way `docker compose`
// reads `env_file:` so the engine and compose start identical containers.
import { OcmError } from '@ocm/core';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse `KEY=value` lines; blank lines and `#` comments are skipped, matching surrounding quotes stripped. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    // Never echo the line itself: values are secrets.
    if (eq === -1 || !KEY.test(key)) {
      throw new OcmError('OCM_E_ENV_INVALID', `env file line ${index + 1} is not KEY=value`, {
        details: { line: index + 1 },
      });
    }
    env[key] = unquote(line.slice(eq + 1).trim());
  });
  return env;
}

function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
    return value.slice(1, -1);
  }
  return value;
}
