/**
 * The codes @lego/runtime throws. Codes are never renamed once released.
 *
 * `@lego/runtime` cannot depend on `@lego/core` (core uses `node:` modules), so its error is a small
 * structural twin of core's `LegoError`: `isLegoError()` and `toLegoError()` in core accept it as is.
 */
export const RuntimeErrorCode = [
  /** A domain config (or a `domains` module) failed validation; `path` names the key. */
  "ERR_DOMAIN_CONFIG_INVALID",
  /** `initializeService` found no domain config: nothing registered, passed or bound as `LEGO_DOMAINS`. */
  "ERR_RUNTIME_NO_DOMAINS",
  /** The current service could not be told apart (several entries, no `LEGO_SERVICE`, no matching host). */
  "ERR_RUNTIME_SERVICE_UNRESOLVED",
  /** `LEGO_SERVICE` (or the `service` option) names an entry the domain config does not have. */
  "ERR_RUNTIME_SERVICE_UNKNOWN",
  /** The environment could not be resolved (no `LEGO_ENV`/`ENVIRONMENT` binding, no matching host). */
  "ERR_RUNTIME_ENV_UNRESOLVED",
  /** `LEGO_ENV`/`ENVIRONMENT` (or the `environment` option) names an environment the service does not declare. */
  "ERR_RUNTIME_ENV_UNKNOWN",
  /** A binding Lego reads (`LEGO_FEATURES`, `FEATURE_*`, `LEGO_DOMAINS`) holds a value it cannot parse. */
  "ERR_RUNTIME_BINDING_INVALID",
  /** A feature override names a flag the service's config does not declare. */
  "ERR_RUNTIME_FEATURE_UNKNOWN",
] as const;
/** One of {@link RuntimeErrorCode}. */
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[number];

/** One problem found in a config: the dotted key path and what is wrong there. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `domains.my-domain.domains.staging`. */
  path: string;
  /** What is wrong, e.g. `expected a hostname such as "api.example.com", got "https://x"`. */
  message: string;
}

/** Options of {@link RuntimeConfigError}. */
export interface RuntimeConfigErrorOptions {
  code: RuntimeErrorCode;
  message: string;
  /** Dotted key path of the (first) offending key, or the binding name. */
  path?: string | undefined;
  /** The config file, when known. */
  file?: string | undefined;
  hint?: string | undefined;
  /** Every problem found (validation reports them all, not only the first). */
  issues?: ConfigIssue[] | undefined;
  cause?: unknown;
}

/**
 * A configuration problem found by @lego/runtime: an invalid domain config, a binding it cannot parse, a
 * service or environment it cannot resolve. Always a user error (exit code 2 when a CLI reports it).
 *
 * @example
 * try { validateDomains(mod.domains, { file: "src/config/domains.ts" }) }
 * catch (error) { if (error instanceof RuntimeConfigError) console.error(error.path, error.issues) }
 */
export class RuntimeConfigError extends Error {
  override readonly name = "RuntimeConfigError";
  /** Stable machine-readable code, see {@link RuntimeErrorCode}. */
  readonly code: RuntimeErrorCode;
  /** Dotted key path of the first offending key (or the binding name); `""` when it is the whole value. */
  readonly path: string;
  /** The config file, when the caller named it. */
  readonly file: string | undefined;
  /** What to do about it. */
  readonly hint: string | undefined;
  /** Every problem found. */
  readonly issues: ConfigIssue[];
  /** Matches `@lego/core`'s `LegoError`: configuration errors are the user's to fix. */
  readonly kind = "user" as const;
  /** Matches `@lego/core`'s `ExitCode.Usage`. */
  readonly exitCode = 2 as const;

  constructor(options: RuntimeConfigErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.path = options.path ?? "";
    this.file = options.file;
    this.hint = options.hint;
    this.issues = options.issues ?? [{ path: this.path, message: options.message }];
  }

  /** Structured context, in the shape `@lego/core`'s `LegoError.details` has. */
  get details(): Record<string, unknown> {
    return { path: this.path, ...(this.file ? { file: this.file } : {}), issues: this.issues };
  }

  /** A plain object for `--json` output, as `LegoError.toJSON()` gives. */
  toJSON(): {
    code: RuntimeErrorCode;
    message: string;
    hint?: string;
    kind: "user";
    exitCode: 2;
    details: Record<string, unknown>;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      kind: this.kind,
      exitCode: this.exitCode,
      details: this.details,
    };
  }
}
