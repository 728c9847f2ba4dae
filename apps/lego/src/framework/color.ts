// Colour is decided in one place for both CLIs: @lego/cli-kit.
export type { StyleFormat } from "@lego/cli-kit";
export { paint, shouldUseColor, stripAnsi } from "@lego/cli-kit";
