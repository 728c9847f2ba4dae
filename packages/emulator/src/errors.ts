import { ExitCode, LegoError } from "@lego/core";

/** The codes @lego/emulator throws. Codes are never renamed once released. */
export const EmulatorErrorCode = [
  "ERR_LOCAL_CLOUD_START",
  "ERR_LOCAL_CLOUD_STATE",
  "ERR_LOCAL_CLOUD_OPTIONS",
  "ERR_LOCAL_CLOUD_RUNTIME",
  "ERR_LOCAL_CLOUD_TRIGGER",
] as const;
/** One of {@link EmulatorErrorCode}. */
export type EmulatorErrorCode = (typeof EmulatorErrorCode)[number];

/** Builds a LegoError with one of this package's codes. */
export function emulatorError(
  code: EmulatorErrorCode,
  message: string,
  options: { hint?: string; cause?: unknown; exitCode?: ExitCode; details?: Record<string, unknown> } = {},
): LegoError {
  return new LegoError({
    code,
    message,
    hint: options.hint,
    cause: options.cause,
    details: options.details,
    exitCode: options.exitCode ?? ExitCode.Failure,
    kind: options.exitCode === ExitCode.Usage ? "user" : "system",
  });
}
