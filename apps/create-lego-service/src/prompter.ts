import type { Readable, Writable } from "node:stream";
import { canPrompt, type TerminalInfo } from "@lego/cli-kit";
import { type Choice, createNonInteractivePrompter, InterruptedError, type Prompter } from "@lego/core";

// The interactivity decision is @lego/cli-kit's, shared with lego; re-exported for this package's users.
export { canPrompt, isCi, type TerminalInfo } from "@lego/cli-kit";

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

/** Options of {@link askUser}, {@link askYesNo} and {@link askChoice}: the terminal (default: this process's). */
export interface AskOptions {
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  output?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Shown in the error when there is no terminal: the flag or variable that answers instead. */
  flag?: string;
}

function askPrompter(options: AskOptions): Prompter & { flag: string } {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const env = options.env ?? process.env;
  const flag = options.flag ?? "the answer as a flag or variable";
  if (
    !canPrompt({ stdinIsTTY: Boolean(input.isTTY), stdoutIsTTY: Boolean(output.isTTY), env, json: false })
  ) {
    // Never wait on a stdin nobody types into: fail at once with exit 2 (ERR_PROMPT_UNAVAILABLE).
    return { ...createNonInteractivePrompter(), flag };
  }
  return {
    ...createInquirerPrompter({ input, output, ...(options.signal ? { signal: options.signal } : {}) }),
    flag,
  };
}

/**
 * The seed's `askUser(question, default?)`: a line of text from the terminal (@inquirer/prompts).
 * Without a terminal (stdin or stdout not a TTY, or CI) it throws a LegoError `ERR_PROMPT_UNAVAILABLE`
 * (exit 2) at once instead of waiting.
 *
 * @example
 * const name = await askUser("Service name?", "api");
 */
export async function askUser(
  question: string,
  defaultValue?: string,
  options: AskOptions = {},
): Promise<string> {
  const p = askPrompter(options);
  return p.input({
    message: question,
    flag: p.flag,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/**
 * The seed's `askYesNo(question, default?)`: true for yes. Without a terminal: `ERR_PROMPT_UNAVAILABLE`.
 *
 * @example
 * if (await askYesNo("Deploy to production?", false)) await deploy();
 */
export async function askYesNo(
  question: string,
  defaultValue?: boolean,
  options: AskOptions = {},
): Promise<boolean> {
  const p = askPrompter(options);
  return p.confirm({
    message: question,
    flag: p.flag,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

/**
 * The seed's `askChoice(question, choices)`: one of `choices`. Without a terminal: `ERR_PROMPT_UNAVAILABLE`.
 *
 * @example
 * const env = await askChoice("Select environment:", ["staging", "production"]);
 */
export async function askChoice<T extends string>(
  question: string,
  choices: readonly T[],
  options: AskOptions = {},
): Promise<T> {
  if (choices.length === 0) throw new TypeError(`askChoice("${question}"): no choices given`);
  const p = askPrompter(options);
  return p.select<T>({ message: question, flag: p.flag, choices: choices.map((value) => ({ value })) });
}
