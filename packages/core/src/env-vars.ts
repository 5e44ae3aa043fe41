// Per-user environment goes into an env file read by both ocm (dockerode) and
// docker-compose v1/v2, which parse quotes, `$` and `#` differently. Values are
// limited to what every reader takes literally, so none can inject a line.
import { OcmError, quote } from './errors.js';

const KEY_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
export const ENV_VALUE_MAX = 4096;

/** Variables ocm sets itself; a user may not override them. */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set([
  'OPENCLAW_GATEWAY_TOKEN', 'HOME', 'OPENCLAW_STATE_DIR', 'OPENCLAW_CONFIG_PATH', 'OPENCLAW_WORKSPACE_DIR', 'TZ', 'PATH',
]);

export function envKeyProblem(key: string): string | undefined {
  if (!KEY_PATTERN.test(key)) return 'is not a valid variable name (use A-Z, 0-9 and _, not starting with a digit)';
  if (key.length > 128) return 'is longer than 128 characters';
  return undefined;
}

export function envValueProblem(value: string): string | undefined {
  if (value.length > ENV_VALUE_MAX) return `is longer than ${ENV_VALUE_MAX} characters`;
  // C1 controls and Unicode line separators too: python-dotenv (compose v2) and
  // PyYAML (compose v1) read U+0085, U+2028 and U+2029 as white space or line breaks.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) return 'contains a newline or control character';
  if (value.includes('$')) return 'contains "$", which docker-compose would expand';
  if (/^\s|\s$/.test(value)) return 'starts or ends with white space';
  if (/^["'`]/.test(value)) return 'starts with a quote, which docker-compose would strip';
  if (/\s#/.test(value)) return 'contains " #", which docker-compose reads as a comment';
  return undefined;
}

export function assertEnvEntry(key: string, value: string, field = 'env'): void {
  const keyProblem = envKeyProblem(key);
  if (keyProblem !== undefined) {
    throw new OcmError('OCM_E_ENV_INVALID', `${field}: key ${quote(key)} ${keyProblem}`, { details: { field, key } });
  }
  if (RESERVED_ENV_KEYS.has(key)) {
    throw new OcmError('OCM_E_ENV_RESERVED', `${field}: ${key} is set by ocm and cannot be overridden`, { details: { field, key } });
  }
  const valueProblem = envValueProblem(value);
  if (valueProblem !== undefined) {
    // The default hint is about keys; this one is about the value's characters.
    throw new OcmError('OCM_E_ENV_INVALID', `${field}.${key}: value ${valueProblem}`, {
      details: { field, key },
      hint: 'docker-compose reads the value from an env file and would change it: leave that character out of the value',
    });
  }
}

/** Parse a `KEY=VALUE` command-line argument. */
export function parseEnvAssignment(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new OcmError('OCM_E_ENV_INVALID', `env ${quote(text)} is not KEY=VALUE`, { details: { value: text.slice(0, 40) } });
  }
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  assertEnvEntry(key, value);
  return [key, value];
}

/** Keys whose values are masked when shown (API keys, tokens, passwords). */
export function isSecretKey(key: string): boolean {
  return /KEY|TOKEN|SECRET|PASSWORD|PASS|CREDENTIAL/.test(key);
}
