// User names become DNS labels, container names, file names and nginx
// server_names, so one strict rule keeps every one of those safe.
import { OcmError, quote } from './errors.js';

export const NAME_MAX_LENGTH = 32;
const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/** Names that would collide with ocm itself or with subdomains admins commonly use. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'www', 'admin', 'api', 'ocm', 'root', 'mail', 'smtp', 'imap', 'pop', 'ftp', 'ns', 'ns1', 'ns2',
  'localhost', 'status', 'default', 'static', 'assets', 'cdn', 'proxy', 'gateway', 'daemon',
  'backup', 'backups', 'dashboard', 'login', 'auth', 'docker', 'nginx', 'openclaw', 'test',
]);

/** Returns the reason a name is invalid, or undefined if it is a valid user name. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > NAME_MAX_LENGTH) return `is ${name.length} characters long (at most ${NAME_MAX_LENGTH})`;
  if (!NAME_PATTERN.test(name)) {
    if (/^[^a-z]/.test(name)) return 'must start with a lowercase letter';
    return 'may contain only lowercase letters, digits and hyphens';
  }
  if (name.endsWith('-')) return 'must not end with a hyphen';
  if (name.includes('--')) return 'must not contain two hyphens in a row';
  return undefined;
}

export function assertUserName(name: string): string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new OcmError('OCM_E_NAME_INVALID', `user name ${quote(name)} ${problem}`, { details: { name } });
  }
  if (RESERVED_NAMES.has(name)) {
    throw new OcmError('OCM_E_NAME_RESERVED', `user name ${quote(name)} is reserved`, { details: { name } });
  }
  return name;
}
