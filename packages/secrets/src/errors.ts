import { LegoError } from "@lego/core";

/**
 * The codes @lego/secrets throws. Codes are never renamed once released; messages may change.
 * No error of this package ever carries a secret value or a token, in its message, hint or details.
 */
export const SecretsErrorCode = [
  /** The passphrase does not open the vault (exit 3). */
  "ERR_VAULT_PASSPHRASE",
  /** The vault file was modified: its authentication tag or structure does not check out (exit 3). */
  "ERR_VAULT_TAMPERED",
  /** The vault file has a format or version this Lego cannot read (exit 3). */
  "ERR_VAULT_UNSUPPORTED",
  /** The two entries of a new vault passphrase differ (exit 2). */
  "ERR_VAULT_PASSPHRASE_MISMATCH",
  /** A new vault passphrase is too short (exit 2). */
  "ERR_VAULT_PASSPHRASE_WEAK",
  /** The vault file cannot be read or written (permissions, disk) (exit 1). */
  "ERR_VAULT_IO",
  /** An API token given to `lego token set` is empty or has whitespace inside (exit 2). */
  "ERR_TOKEN_INVALID",
  /** A secret type named in `--types` is unknown (exit 2). */
  "ERR_SECRET_TYPE_UNKNOWN",
  /** A custom secret spec (length, alphabet) is invalid (exit 2). */
  "ERR_SECRET_SPEC_INVALID",
  /** A secret name is not a valid binding name (exit 2). */
  "ERR_SECRET_NAME_INVALID",
  /** Required secrets are missing in the target environment (exit 2); the hint names the command to set them. */
  "ERR_SECRETS_MISSING",
  /** A value that must come from the vault was never persisted there (exit 2). */
  "ERR_SECRET_NOT_PERSISTED",
  /** `sync` was not confirmed (no `--yes`, or the answer was no) (exit 2). */
  "ERR_SYNC_NOT_CONFIRMED",
  /** The service has no such environment (exit 2). */
  "ERR_SECRETS_ENVIRONMENT_UNKNOWN",
  /** `--reveal` was asked for without a terminal on stdout (exit 2). */
  "ERR_REVEAL_NEEDS_TTY",
  /** Generated values would be thrown away: nothing persists, pushes or reveals them (exit 2). */
  "ERR_NOTHING_TO_KEEP",
  /** `rotate` of a secret the service neither declares, has set, nor keeps in the vault (exit 2). */
  "ERR_SECRET_UNDECLARED",
  /** `lego secrets diff`: declared secrets are missing from the cloud (exit 4, drift); details carry the diff. */
  "ERR_SECRETS_DRIFT",
] as const;
/** One of {@link SecretsErrorCode}. */
export type SecretsErrorCode = (typeof SecretsErrorCode)[number];

/** A caller left out a port a method needs (a bug in the caller, not a user error): `ERR_INTERNAL`, exit 1. */
export function missingPort(what: string): LegoError {
  return new LegoError({
    code: "ERR_INTERNAL",
    message: `@lego/secrets: ${what}`,
    hint: "This is a bug in the code calling @lego/secrets: pass the missing port in the context.",
    kind: "system",
  });
}
