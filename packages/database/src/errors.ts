/**
 * The codes @lego/database throws. Codes are never renamed once released; messages may change.
 */
export const DatabaseErrorCode = [
  /** The service has no D1 database in that environment (or not the one named). */
  "ERR_DATABASE_NOT_CONFIGURED",
  /** The D1 database named in the config does not exist in the target account. */
  "ERR_DATABASE_NOT_FOUND",
  /** The migrations folder of a D1 binding is missing or unreadable. */
  "ERR_MIGRATIONS_DIR",
  /** A migration file changed after it was applied, or an applied migration's file is gone (exit 4). */
  "ERR_MIGRATION_DRIFT",
  /** A migration failed; the database was restored from the backup taken just before (exit 1). */
  "ERR_MIGRATION_FAILED",
  /** wrangler reported success but the migrations table does not list every migration (exit 1). */
  "ERR_MIGRATION_UNVERIFIED",
  /** A backup could not be taken: the export failed or produced an unreadable file. */
  "ERR_BACKUP_FAILED",
  /** No backup matches the name given to `--from`. */
  "ERR_BACKUP_NOT_FOUND",
  /** A backup file does not match the checksum recorded when it was taken. */
  "ERR_BACKUP_CORRUPT",
  /** A restore ran but the database does not match the backup (tables or row counts differ). */
  "ERR_RESTORE_FAILED",
  /** A migration failed and restoring the backup failed too: the database needs a manual restore. */
  "ERR_RESTORE_AFTER_FAILURE",
  /** A migration failed and the database could not be read back to tell what it holds; nothing was restored. */
  "ERR_MIGRATION_STATE_UNKNOWN",
  /** A production change was not confirmed (answered no). */
  "ERR_NOT_CONFIRMED",
  /** Bad arguments: a negative `--keep`, a backup of another service, … */
  "ERR_DATABASE_USAGE",
  /**
   * A pending migration drops or renames a table or column while two Worker versions serve (a canary
   * deploy): the old version would break. Exit 2; `--force` applies it anyway. See "Expand/contract".
   */
  "ERR_MIGRATION_NOT_BACKWARD_COMPATIBLE",
] as const;
/** One of {@link DatabaseErrorCode}. */
export type DatabaseErrorCode = (typeof DatabaseErrorCode)[number];
