// The interactivity decision is @lego/cli-kit's (CI=0 and CI=false are not CI), shared with
// create-lego-service; both CLIs ask through create-lego-service's @inquirer/prompts prompter.
export type { InteractivityInputs } from "@lego/cli-kit";
export { isCi, isInteractive } from "@lego/cli-kit";
export { createInquirerPrompter } from "create-lego-service";
