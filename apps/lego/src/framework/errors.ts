/**
 * The codes the CLI itself throws: parsing, routing, wiring and the few checks commands make on their
 * own; everything else is a library's code. Codes are never renamed once released.
 */
export const CliErrorCode = [
  "ERR_UNKNOWN_COMMAND",
  "ERR_UNKNOWN_FLAG",
  "ERR_FLAG_VALUE",
  "ERR_MISSING_ARGUMENT",
  "ERR_UNEXPECTED_ARGUMENT",
  "ERR_COMMAND_UNAVAILABLE",
  // Thrown by commands and wiring (not by a library).
  "ERR_USAGE",
  "ERR_BAD_FLAG",
  "ERR_SERVICE_REQUIRED",
  "ERR_NO_SERVICES",
  "ERR_ENVIRONMENT_CONFLICT",
  "ERR_RUN_NOT_FOUND",
  "ERR_CANCELLED",
  "ERR_TESTS_FAILED",
  "ERR_PASSPHRASE_MISMATCH",
  /** `lego db migrate|restore` named a service with no D1 database in that environment (exit 2). */
  "ERR_NO_DATABASE",
] as const;
/** One of {@link CliErrorCode}. */
export type CliErrorCode = (typeof CliErrorCode)[number];
