/**
 * The lego CLI as a library: `runCli` runs it in-process (tests, embedding), and the framework's
 * definers let other packages describe commands the same way.
 */

export type { EnvRow } from "./commands/env.ts";
export { commands } from "./commands/index.ts";
export type { LocalCloudView } from "./commands/local.ts";
export type { SeedAlias } from "./framework/aliases.ts";
export { expandSeedAlias, seedAliases } from "./framework/aliases.ts";
export type { ArgDef, ArgsDef, FlagDef, ParsedArgs, PositionalDef } from "./framework/args.ts";
export { parseArgv, parseIntegerFlag } from "./framework/args.ts";
export type { CliOutcome, RunCliOptions } from "./framework/cli.ts";
export type { StyleFormat } from "./framework/color.ts";
export { shouldUseColor } from "./framework/color.ts";
export type { CommandContext, CommandMeta, CommandNode, LegoCommand, LegoGroup } from "./framework/define.ts";
export { defineCommand, defineGroup } from "./framework/define.ts";
export { CliErrorCode } from "./framework/errors.ts";
export { isInteractive } from "./framework/interactive.ts";
export type { TaskHandle, TaskList, TaskStatus } from "./framework/tasks.ts";
export type { TextStream, Ui } from "./framework/ui.ts";
export { program } from "./program.ts";
export { runCli } from "./run.ts";
