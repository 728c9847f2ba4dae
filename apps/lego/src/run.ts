import { commands } from "./commands/index.ts";
import { type CliOutcome, type RunCliOptions, runCli as runWith } from "./framework/cli.ts";
import { program } from "./program.ts";

/**
 * Runs `lego` in-process with the registered commands and resolves to the outcome (exit code and
 * result or error). Only the entry files exit the process, so tests call this with their own streams.
 *
 * @example
 * const stdout = { text: "", write(s: string) { this.text += s; } };
 * const { exitCode } = await runCli(["local", "status", "--json"], {
 *   env: { LEGO_HOME: "/tmp/lego-home" }, stdout, stderr: stdout, isTTY: false,
 * });
 */
export function runCli(
  argv: readonly string[],
  options: Omit<RunCliOptions, "commands" | "program"> &
    Partial<Pick<RunCliOptions, "commands" | "program">> = {},
): Promise<CliOutcome> {
  return runWith(argv, { commands, program, ...options });
}
