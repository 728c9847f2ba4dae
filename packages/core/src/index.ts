/**
 * @lego/core: the ground every Lego library stands on. Errors with stable codes and exit codes, the
 * registry of environment variables, atomic file writes, the portfolio lock, the run journal, and
 * the ports (logger, prompter, clock) that libraries take as arguments instead of doing I/O themselves.
 */

export type { AuditEvent, AuditLogOptions, AuditRecord } from "./audit.ts";
export { AuditLog, auditLogPath, resolveActor } from "./audit.ts";
export type { EnvName, LegoEnv } from "./env.ts";
export { envRegistry, readEnv, resolveLegoHome, secretEnvNames } from "./env.ts";
export type { ErrorKind, LegoErrorOptions } from "./errors.ts";
export {
  AuthError,
  ConflictError,
  CoreErrorCode,
  ExitCode,
  InterruptedError,
  isLegoError,
  LegoError,
  OperationError,
  toLegoError,
  UsageError,
} from "./errors.ts";
export type { WriteFileAtomicOptions } from "./fs.ts";
export { PRIVATE_FILE, readJsonFile, writeFileAtomic, writeJsonAtomic } from "./fs.ts";
export { escapeHtml } from "./html.ts";
export type { JournalEvent, RunJournal } from "./journal.ts";
export { createRunId, createRunJournal, portfolioStateDir, readJournal } from "./journal.ts";
export type { LocalCloudInfo } from "./local-cloud.ts";
export { localCloudDir, localCloudInfoPath, localCloudInfoSchema } from "./local-cloud.ts";
export type { AcquireLockOptions, HeldLock, LockInfo } from "./lock.ts";
export { acquireLock, acquireServiceLocks, readLock, serviceLockPath } from "./lock.ts";
export type { Choice, Clock, LogFields, Logger, LogRecord, Prompter } from "./ports.ts";
export {
  createManualClock,
  createMemoryLogger,
  createNonInteractivePrompter,
  createNullLogger,
  createScriptedPrompter,
  systemClock,
} from "./ports.ts";
export type { Redactor } from "./redact.ts";
export { createRedactor } from "./redact.ts";
