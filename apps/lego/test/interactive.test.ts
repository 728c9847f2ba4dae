import { canPrompt } from "create-lego-service";
import { describe, expect, it } from "vitest";
import { isInteractive } from "../src/framework/interactive.ts";

describe("one interactivity decision for both CLIs", () => {
  it.each([
    [undefined, true],
    ["", true],
    ["0", true],
    ["false", true],
    ["FALSE", true],
    ["1", false],
    ["true", false],
    ["yes", false],
    ["github-actions", false],
  ])("CI=%s: interactive %s in lego and in create-lego-service alike", (ci, expected) => {
    const tty = { stdinIsTTY: true, stdoutIsTTY: true, json: false };
    expect(isInteractive({ ...tty, ci })).toBe(expected);
    expect(canPrompt({ ...tty, env: { CI: ci } })).toBe(expected);
  });
});
