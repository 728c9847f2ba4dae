// The "did you mean" match is @lego/cli-kit's, so both CLIs suggest the same way.
export { closest } from "@lego/cli-kit";
