/**
 * The codes @lego/cli-kit throws, all exit 2 (bad input). Codes are never renamed once released;
 * messages may change. Every error names the flag or argument and says what to type instead.
 */
export const CliKitErrorCode = [
  /** A flag the command does not define; the hint suggests the closest one ("Did you mean --domain?"). */
  "ERR_UNKNOWN_FLAG",
  /** A flag without its value, a value outside an enum, a switch given a value, a flag given twice. */
  "ERR_FLAG_VALUE",
  /** A required positional or flag is missing. */
  "ERR_MISSING_ARGUMENT",
  /** More positionals than the command takes. */
  "ERR_UNEXPECTED_ARGUMENT",
] as const;
/** One of {@link CliKitErrorCode}. */
export type CliKitErrorCode = (typeof CliKitErrorCode)[number];
