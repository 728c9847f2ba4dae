import { InterruptedError, type Prompter } from "@lego/core";

/** The inputs of the one interactivity decision. */
export interface InteractivityInputs {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** The `CI` variable, raw. */
  ci: string | undefined;
  json: boolean;
}

/**
 * The one place that decides whether lego may ask questions: stdin and stdout are terminals, not
 * in CI, not `--json`. Everything else gets a prompter that fails with exit 2 naming the flag.
 */
export function isInteractive(inputs: InteractivityInputs): boolean {
  const inCi = inputs.ci !== undefined && inputs.ci !== "" && !/^(0|false)$/i.test(inputs.ci);
  return inputs.stdinIsTTY && inputs.stdoutIsTTY && !inCi && !inputs.json;
}

/** Streams the interactive prompter reads and writes. */
export interface PromptStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal: AbortSignal;
}

function translate(error: unknown): never {
  const name = error instanceof Error ? error.name : "";
  // Ctrl-C inside a prompt (ExitPromptError) or our signal (AbortPromptError): exit 130.
  if (name === "ExitPromptError" || name === "AbortPromptError" || name === "CancelPromptError") {
    throw new InterruptedError("Interrupted at a prompt", error);
  }
  throw error;
}

/**
 * A Prompter backed by `@inquirer/prompts`. The module is loaded on the first question, so commands
 * that never ask pay nothing for it.
 */
export function createInquirerPrompter(streams: PromptStreams): Prompter {
  const context = { input: streams.input, output: streams.output, signal: streams.signal };
  const load = () => import("@inquirer/prompts");
  return {
    interactive: true,
    async input(q) {
      const { input } = await load();
      return input(
        { message: q.message, ...(q.default !== undefined ? { default: q.default } : {}) },
        context,
      ).catch(translate);
    },
    async password(q) {
      const { password } = await load();
      return password({ message: q.message, mask: true }, context).catch(translate);
    },
    async confirm(q) {
      const { confirm } = await load();
      return confirm({ message: q.message, default: q.default ?? false }, context).catch(translate);
    },
    async select(q) {
      const { select } = await load();
      return select(
        {
          message: q.message,
          choices: q.choices.map((c) => ({
            value: c.value,
            name: c.name ?? c.value,
            ...(c.description ? { description: c.description } : {}),
          })),
        },
        context,
      ).catch(translate);
    },
  };
}
