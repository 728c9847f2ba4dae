/**
 * @lego/database: D1 migrations, status, backups and restores across services and environments,
 * through the real wrangler. A backup before every migration, a verified restore when one fails,
 * drift detection, and exit codes scripts can trust.
 */

export type { AuditEvent, AuditRecord, AuditSink } from "./audit.ts";
export { auditLogPath, createFileAuditSink, readAuditLog } from "./audit.ts";
export type { BackupEntry, BackupManifest, BackupReason, CreateBackupOptions } from "./backup.ts";
export {
  backupManifestSchema,
  backupsDir,
  backupTimestamp,
  createBackup,
  findBackup,
  listBackups,
  pruneBackups,
  verifyBackupFile,
} from "./backup.ts";
export type { CloudflarePieces } from "./cloudflare-adapter.ts";
export { fromCloudflare } from "./cloudflare-adapter.ts";
export type { BreakingChange, BreakingMigration } from "./compat.ts";
export { breakingMigrationError, findBreakingChanges, findBreakingMigrations } from "./compat.ts";
export type { DatabaseContext, ResolvedContext } from "./context.ts";
export { resolveContext } from "./context.ts";
export type { DeployMigrationOutcome, MigrateBeforeDeployOptions } from "./deploy-hook.ts";
export { createDeployMigrationHook, migrateBeforeDeploy } from "./deploy-hook.ts";
export { DatabaseErrorCode } from "./errors.ts";
export type { DatabaseMigrateResult, MigrateOptions, ServiceMigrateResult } from "./migrate.ts";
export { assertNoDrift, confirmChange, describeDrift, describeFailure, migrateService } from "./migrate.ts";
export type { MigrationFile } from "./migrations.ts";
export { compareMigrationNames, listMigrationFiles, migrationChecksum } from "./migrations.ts";
export type { DatabaseOrchestratorOptions } from "./orchestrator.ts";
export { DatabaseOrchestrator } from "./orchestrator.ts";
export type { PortfolioStatus, SyncResult } from "./portfolio.ts";
export { inDependencyOrder, portfolioStatus, syncPortfolio } from "./portfolio.ts";
export type {
  D1ApiPort,
  D1DatabaseRef,
  D1QueryResult,
  D1Target,
  D1WranglerPort,
  WranglerD1Options,
} from "./ports.ts";
export type { CountMismatch, RestoreOptions, RestoreResult } from "./restore.ts";
export { compareRowCounts, dropUserObjectsSql, readTableCounts, restoreBackup } from "./restore.ts";
export type { DatabaseRunOptions } from "./run.ts";
export { withDatabaseRun } from "./run.ts";
export type { DumpSummary } from "./sql.ts";
export { splitSqlStatements, summarizeDump } from "./sql.ts";
export type {
  AppliedMigration,
  AppliedMigrationStatus,
  ChecksumState,
  DatabaseStatus,
  DriftEntry,
  MigrationPlan,
  PendingMigration,
  RecordedChecksum,
} from "./status.ts";
export { CHECKSUM_TABLE, planMigrations, readAppliedMigrations, readDatabaseStatus } from "./status.ts";
export { d1TargetsOf, environmentsWithDatabases } from "./targets.ts";
