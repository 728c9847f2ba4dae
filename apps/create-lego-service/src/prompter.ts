import type { Readable, Writable } from "node:stream";
import { type Choice, createNonInteractivePrompter, InterruptedError, type Prompter } from "@lego/core";

/** The streams and environment that decide whether a command may ask questions. */
export interface TerminalInfo {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  env: Record<string, string | undefined>;
  json: boolean;
}

/**
 * The one place interactivity is decided: prompt only when stdin and stdout are terminals, not in CI,
 * and not with `--json`.
 */
export function canPrompt(info: TerminalInfo): boolean {
  const ci = info.env.CI;
  return (
    info.stdinIsTTY && info.stdoutIsTTY && !info.json && (ci === undefined || ci === "" || ci === "false")
  );
}

function interrupted(error: unknown): never {
  if (error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError")) {
    throw new InterruptedError("Cancelled at a prompt", error);
  }
  throw error;
}

/**
 * A `Prompter` backed by `@inquirer/prompts` on the given terminal streams. Ctrl-C at a prompt becomes an
 * `InterruptedError` (exit 130).
 */
export function createInquirerPrompter(streams: { input: Readable; output: Writable }): Prompter {
  const context = { input: streams.input, output: streams.output, clearPromptOnDone: false };
  const load = () => import("@inquirer/prompts");
  return {
    interactive: true,
    input: async (q) => {
      const { input } = await load();
      return input(
        { message: q.message, ...(q.default === undefined ? {} : { default: q.default }) },
        context,
      ).catch(interrupted);
    },
    password: async (q) => {
      const { password } = await load();
      return password({ message: q.message, mask: true }, context).catch(interrupted);
    },
    confirm: async (q) => {
      const { confirm } = await load();
      return confirm(
        { message: q.message, ...(q.default === undefined ? {} : { default: q.default }) },
        context,
      ).catch(interrupted);
    },
    select: async <T extends string>(q: { message: string; choices: Choice<T>[] }) => {
      const { select } = await load();
      const choices = q.choices.map((c) => ({
        value: c.value,
        name: c.name ?? c.value,
        ...(c.description ? { description: c.description } : {}),
      }));
      return (await select({ message: q.message, choices }, context).catch(interrupted)) as T;
    },
  };
}

/** The prompter a CLI should use for these streams: interactive on a terminal, else one that fails naming the flag. */
export function createTerminalPrompter(
  info: TerminalInfo,
  streams: { input: Readable; output: Writable },
): Prompter {
  return canPrompt(info) ? createInquirerPrompter(streams) : createNonInteractivePrompter();
}
