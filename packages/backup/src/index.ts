export * from './types.js';
export { guardFor, noGuard } from './consistency-guard.js';
export { createBackup, type BackupProgress, type BackupResult, type BackupStrategy, type CreateBackupOptions } from './create-backup.js';
export { verifyBackup, type VerifyReport } from './verify-backup.js';
export { extractBackup, type ExtractOptions, type ExtractReport, type Owner } from './extract-backup.js';
export { restoreState, restoreTo, type RestoreResult, type RestoreStateOptions } from './restore-state.js';
export { listBackups, type BackupInfo, type ListOptions } from './list-backups.js';
export { planRetention, isoWeek, utcDay, defaultRetention, DEFAULT_KEEP_MANUAL, type Dated, type RetentionPlan, type RetentionPolicy } from './retention.js';
export { applyRetention, type ApplyRetentionOptions, type RetentionOutcome } from './apply-retention.js';
export { copyBackup, type CopyResult } from './copy-backup.js';
export { backupUser, type BackupUserOptions, type BackupUserResult } from './backup-user.js';
export {
  createBackupScheduler,
  nodeCronSchedule,
  type BackupScheduler,
  type BackupSchedulerOptions,
  type ScheduleFn,
  type ScheduledJob,
} from './backup-scheduler.js';
export { archiveName, parseArchiveName, formatStamp, parseStamp, sidecarName, verifyStateName, MANIFEST_NAME, SIDECAR_SUFFIX, VERIFY_SUFFIX, type ArchiveKind } from './archive-name.js';
export { readVerify, recordVerify, verifyAndRecord, type VerifyState } from './verify-state.js';
export { MANIFEST_FORMAT, type BackupManifest, type ManifestEntry, type SkippedEntry } from './manifest.js';
export { ParallelGzip, DEFAULT_GZIP_LEVEL, type ParallelGzipOptions } from './parallel-gzip.js';
export { readBundle, writeBundle, invalidExport, EXPORT_FORMAT, EXPORT_VERSION, EXPORT_META, EXPORT_PAYLOAD, type ExportMeta, type ReadBundleOptions } from './export-bundle.js';
export { writeSidecar } from './sidecar.js';
