export { renewAt, retryAt, dueAt, planIssuance, RETRY_MIN_MS, RETRY_MAX_MS, type CertDates, type Failure, type HostState, type IssuePlan } from './renewal-policy.js';
export { acmeDir, accountKeyPath, hostFiles, type HostFiles } from './acme-paths.js';
export { createCertStore, describeCert, type CertStore, type CertStoreOptions, type StoredCert, type WriteLock } from './cert-store.js';
export { createChallengeTable, CHALLENGE_PREFIX, type ChallengeTable } from './challenge-table.js';
export { createAcmeIssuer, type Issuer, type IssuerSettings } from './acme-issuer.js';
export { createCertManager, type CertManager, type CertManagerOptions, type CertLogger, type HostStatus } from './cert-manager.js';
export { createSniTable, type SniTable } from './sni-table.js';
export { writeStatusFile, readStatusFile, statusFilePath, type StatusFile } from './status-file.js';
export { ensurePlaceholders, isPlaceholder, makePlaceholder, PLACEHOLDER_CN } from './placeholder.js';
