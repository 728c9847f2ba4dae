/**
 * Exit codes are a contract (DESIGN.md): scripts and CI branch on them.
 */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** The operation failed: a deploy, a test, a migration. */
  Failure: 1,
  /** Bad input or usage: a flag, a config file, an argument. */
  Usage: 2,
  /** Authentication or permission. */
  Auth: 3,
  /** A conflict: the lock is held, drift was found. */
  Conflict: 4,
  /** Interrupted by a signal (Ctrl-C). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Who has to act: `user` errors are fixed by the user (no stack trace), `system` ones are bugs or outages. */
export type ErrorKind = "user" | "system";

/** The codes @lego/core itself throws. Codes are never renamed once released. */
export const CoreErrorCode = [
  "ERR_INTERNAL",
  "ERR_ENV_INVALID",
  "ERR_LOCK_HELD",
  "ERR_LOCK_STALE",
  "ERR_FILE_READ",
  "ERR_FILE_INVALID",
  "ERR_PROMPT_UNAVAILABLE",
  "ERR_INTERRUPTED",
] as const;
export type CoreErrorCode = (typeof CoreErrorCode)[number];

export interface LegoErrorOptions {
  /** Stable machine-readable code, `ERR_*`. */
  code: string;
  /** What failed, naming the input (file, key path, service, environment). */
  message: string;
  /** What to do about it. */
  hint?: string | undefined;
  /** Defaults to `user` when exitCode is 2, 3 or 4, else `system`. */
  kind?: ErrorKind | undefined;
  /** Defaults to 2 for user errors, 1 otherwise. */
  exitCode?: ExitCode | undefined;
  /** Structured context; must never hold a secret. */
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/**
 * The one error type Lego libraries throw.
 *
 * @example
 * throw new LegoError({
 *   code: "ERR_CONFIG_INVALID",
 *   message: "services/api/wrangler.jsonc: env.staging.routes[0] must be a string",
 *   hint: "Use a hostname such as \"staging-api.example.com\".",
 *   exitCode: ExitCode.Usage,
 * });
 */
export class LegoError extends Error {
  override readonly name: string = "LegoError";
  readonly code: string;
  readonly hint: string | undefined;
  readonly kind: ErrorKind;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(options: LegoErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.hint = options.hint;
    const exit =
      options.exitCode ??
      (options.kind === "system"
        ? ExitCode.Failure
        : options.kind === "user"
          ? ExitCode.Usage
          : ExitCode.Failure);
    this.exitCode = exit;
    this.kind =
      options.kind ??
      (exit === ExitCode.Usage || exit === ExitCode.Auth || exit === ExitCode.Conflict ? "user" : "system");
    this.details = options.details;
  }

  /** A plain object for `--json` output and audit events (no stack, no cause chain). */
  toJSON(): {
    code: string;
    message: string;
    hint?: string;
    kind: ErrorKind;
    exitCode: number;
    details?: Record<string, unknown>;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      kind: this.kind,
      exitCode: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Bad input or usage: exit 2. */
export class UsageError extends LegoError {
  override readonly name = "UsageError";
  constructor(options: Omit<LegoErrorOptions, "exitCode" | "kind">) {
    super({ ...options, kind: "user", exitCode: ExitCode.Usage });
  }
}

/** Missing or rejected credentials, or a permission the token lacks: exit 3. */
export class AuthError extends LegoError {
  override readonly name = "AuthError";
  constructor(options: Omit<LegoErrorOptions, "exitCode" | "kind">) {
    super({ ...options, kind: "user", exitCode: ExitCode.Auth });
  }
}

/** A conflict with state someone else holds (lock, drift): exit 4. */
export class ConflictError extends LegoError {
  override readonly name = "ConflictError";
  constructor(options: Omit<LegoErrorOptions, "exitCode" | "kind">) {
    super({ ...options, kind: "user", exitCode: ExitCode.Conflict });
  }
}

/** An operation (deploy, test, migration) failed: exit 1. */
export class OperationError extends LegoError {
  override readonly name = "OperationError";
  constructor(options: Omit<LegoErrorOptions, "exitCode">) {
    super({ kind: "system", ...options, exitCode: ExitCode.Failure });
  }
}

/** Cancelled by a signal: exit 130. */
export class InterruptedError extends LegoError {
  override readonly name = "InterruptedError";
  constructor(message = "Interrupted", cause?: unknown) {
    super({ code: "ERR_INTERRUPTED", message, kind: "user", exitCode: ExitCode.Interrupted, cause });
  }
}

/** True for any LegoError, including ones from another copy of this package. */
export function isLegoError(error: unknown): error is LegoError {
  return (
    error instanceof LegoError ||
    (typeof error === "object" &&
      error !== null &&
      typeof (error as { code?: unknown }).code === "string" &&
      typeof (error as { exitCode?: unknown }).exitCode === "number" &&
      (error as { code: string }).code.startsWith("ERR_"))
  );
}

/** Wraps anything thrown into a LegoError, keeping the original as `cause`. */
export function toLegoError(error: unknown): LegoError {
  if (isLegoError(error)) return error;
  if (error instanceof Error && error.name === "AbortError")
    return new InterruptedError(error.message, error);
  const message = error instanceof Error ? error.message : String(error);
  return new LegoError({
    code: "ERR_INTERNAL",
    message,
    kind: "system",
    exitCode: ExitCode.Failure,
    cause: error,
  });
}
