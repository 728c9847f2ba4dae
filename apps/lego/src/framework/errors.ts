/**
 * The codes the CLI framework itself throws. Commands throw their libraries' codes; these cover
 * parsing, routing and wiring. Codes are never renamed once released.
 */
export const CliErrorCode = [
  "ERR_UNKNOWN_COMMAND",
  "ERR_UNKNOWN_FLAG",
  "ERR_FLAG_VALUE",
  "ERR_MISSING_ARGUMENT",
  "ERR_UNEXPECTED_ARGUMENT",
  "ERR_COMMAND_UNAVAILABLE",
] as const;
/** One of {@link CliErrorCode}. */
export type CliErrorCode = (typeof CliErrorCode)[number];
