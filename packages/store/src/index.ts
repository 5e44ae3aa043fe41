export { DeploymentRoot, type LoadedManifest } from './deployment-root.js';
export { resolveRoot, DEFAULT_ROOT } from './root-path.js';
export { withRootLock, withDirLock, isDirLocked, LOCK_NAME } from './root-lock.js';
export { writeAtomic, readIfExists } from './atomic-write.js';
export { applyRendered, diffRendered, type FileChange, type StaleFile } from './apply-files.js';
export { appendAudit, defaultActor, type AuditEntry } from './audit-log.js';
export { loadTemplates } from './templates.js';
export { newToken, tokenFromEnvFile } from './tokens.js';
export { readAdminToken, ensureAdminToken, tokensMatch, ADMIN_TOKEN_FILE } from './admin-token.js';
