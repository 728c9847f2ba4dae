import type { Readable, Writable } from "node:stream";
import { type Choice, createNonInteractivePrompter, InterruptedError, type Prompter } from "@lego/core";

/** The streams and environment that decide whether a command may ask questions. */
export interface TerminalInfo {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  env: Record<string, string | undefined>;
  json: boolean;
}

/** Whether the `CI` variable says CI: set, and not empty, `0` or `false` (any case). */
export function isCi(ci: string | undefined): boolean {
  return ci !== undefined && ci.trim() !== "" && !/^(0|false)$/i.test(ci.trim());
}

/**
 * The one place interactivity is decided, for both CLIs (`lego` and `create-lego-service`): prompt
 * only when stdin and stdout are terminals, not in CI ({@link isCi}), and not with `--json`.
 */
export function canPrompt(info: TerminalInfo): boolean {
  return info.stdinIsTTY && info.stdoutIsTTY && !info.json && !isCi(info.env.CI);
}

function interrupted(error: unknown): never {
  const name = error instanceof Error ? error.name : "";
  // Ctrl-C inside a prompt (ExitPromptError) or the caller's signal (AbortPromptError): exit 130.
  if (name === "ExitPromptError" || name === "AbortPromptError" || name === "CancelPromptError") {
    throw new InterruptedError("Interrupted at a prompt", error);
  }
  throw error;
}

/**
 * A `Prompter` backed by `@inquirer/prompts` on the given terminal streams, shared by both CLIs. The
 * module loads on the first question, so commands that never ask pay nothing for it. Ctrl-C at a
 * prompt, or the `signal` aborting, becomes an `InterruptedError` (exit 130).
 */
export function createInquirerPrompter(streams: {
  input: Readable | NodeJS.ReadableStream;
  output: Writable | NodeJS.WritableStream;
  signal?: AbortSignal | undefined;
}): Prompter {
  const context = {
    input: streams.input as Readable,
    output: streams.output as Writable,
    clearPromptOnDone: false,
    ...(streams.signal ? { signal: streams.signal } : {}),
  };
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
