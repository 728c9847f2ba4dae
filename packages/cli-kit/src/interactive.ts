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
 * The one place interactivity is decided, for every CLI built on this kit (`lego` and
 * `create-lego-service`): prompt only when stdin and stdout are terminals, not in CI ({@link isCi}),
 * and not with `--json`.
 */
export function canPrompt(info: TerminalInfo): boolean {
  return info.stdinIsTTY && info.stdoutIsTTY && !info.json && !isCi(info.env.CI);
}

/** The inputs of {@link isInteractive}: {@link TerminalInfo} with only the `CI` variable, raw. */
export interface InteractivityInputs {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** The `CI` variable, raw. */
  ci: string | undefined;
  json: boolean;
}

/**
 * Whether a command may ask questions: stdin and stdout are terminals, not in CI, not `--json`.
 * Everything else gets a prompter that fails with exit 2 naming the flag.
 */
export function isInteractive(inputs: InteractivityInputs): boolean {
  return canPrompt({
    stdinIsTTY: inputs.stdinIsTTY,
    stdoutIsTTY: inputs.stdoutIsTTY,
    env: { CI: inputs.ci },
    json: inputs.json,
  });
}
