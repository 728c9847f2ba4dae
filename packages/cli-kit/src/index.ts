/**
 * @lego/cli-kit: the command framework both Lego CLIs (`lego` and `create-lego-service`) are built
 * on. Typed arguments, a strict parser (an unknown flag or a bad value is exit 2 naming the flag, with
 * "did you mean"), `--help`, the `--json` document and error rendering with `@lego/core`'s exit codes,
 * the one interactivity decision (CI=0 and CI=false are not CI) and the one colour decision.
 */
export type { ArgDef, ArgsDef, FlagDef, ParsedArgs, PositionalDef } from "./args.ts";
export { aliasesOf, parseArgv, parseIntegerFlag, reservedFlagNames } from "./args.ts";
export type { CapturedOutput } from "./capture.ts";
export { captureOutput } from "./capture.ts";
export type { StyleFormat } from "./color.ts";
export { paint, shouldUseColor, stripAnsi } from "./color.ts";
export type { Command, CommandIo, CommandOutcome, Output, OutputStream, RunContext } from "./command.ts";
export { defineCommand, runCommand } from "./command.ts";
export { CliKitErrorCode } from "./errors.ts";
export type { CommandMeta, HelpNode, HelpOptions } from "./help.ts";
export { globalFlagHelp, renderHelp } from "./help.ts";
export type { InteractivityInputs, TerminalInfo } from "./interactive.ts";
export { canPrompt, isCi, isInteractive } from "./interactive.ts";
export type { ErrorBody, GlobalFlags } from "./output.ts";
export {
  errorBody,
  errorLines,
  extractGlobalFlags,
  formatValue,
  jsonError,
  jsonResult,
} from "./output.ts";
export { closest } from "./suggest.ts";
