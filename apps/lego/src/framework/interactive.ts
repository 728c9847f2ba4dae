// Interactivity and the prompter are create-lego-service's: both CLIs decide the same way (CI=0 and
// CI=false are not CI) and ask through the same @inquirer/prompts prompter.
import { canPrompt } from "create-lego-service";

export { createInquirerPrompter, isCi } from "create-lego-service";

/** The inputs of the one interactivity decision. */
export interface InteractivityInputs {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** The `CI` variable, raw. */
  ci: string | undefined;
  json: boolean;
}

/**
 * Whether lego may ask questions: stdin and stdout are terminals, not in CI, not `--json`. Everything
 * else gets a prompter that fails with exit 2 naming the flag.
 */
export function isInteractive(inputs: InteractivityInputs): boolean {
  return canPrompt({
    stdinIsTTY: inputs.stdinIsTTY,
    stdoutIsTTY: inputs.stdoutIsTTY,
    env: { CI: inputs.ci },
    json: inputs.json,
  });
}
