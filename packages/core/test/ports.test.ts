import { describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryLogger,
  createNonInteractivePrompter,
  createRedactor,
  createScriptedPrompter,
  systemClock,
} from "../src/index.ts";

describe("ports", () => {
  it("a non-interactive prompter fails with exit 2 naming the flag", async () => {
    const prompter = createNonInteractivePrompter();
    await expect(prompter.confirm({ message: "Deploy to production?", flag: "--yes" })).rejects.toMatchObject(
      {
        code: "ERR_PROMPT_UNAVAILABLE",
        exitCode: 2,
        hint: "Pass --yes.",
      },
    );
  });

  it("a scripted prompter answers in order and checks choices", async () => {
    const prompter = createScriptedPrompter(["api", true]);
    expect(
      await prompter.select({
        message: "Service?",
        flag: "<service>",
        choices: [{ value: "api" }, { value: "auth" }],
      }),
    ).toBe("api");
    expect(await prompter.confirm({ message: "Sure?", flag: "--yes" })).toBe(true);
    expect(prompter.asked).toEqual(["Service?", "Sure?"]);
    await expect(prompter.input({ message: "More?", flag: "--x" })).rejects.toThrow(/no answer/);
  });

  it("the system clock's sleep is cancellable", async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(10_000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ exitCode: 130 });
  });

  it("the manual clock advances only when slept on", async () => {
    const clock = createManualClock(1000);
    await clock.sleep(250);
    expect(clock.now()).toBe(1250);
    expect(clock.slept).toEqual([250]);
  });

  it("the memory logger keeps records; the redactor hides registered secrets", () => {
    const logger = createMemoryLogger();
    logger.warn("careful", { step: 1 });
    expect(logger.records).toEqual([{ level: "warn", message: "careful", fields: { step: 1 } }]);
    const redactor = createRedactor(["tok_1234567890"]);
    redactor.add("s3cr3t-value");
    expect(redactor.redact("Bearer tok_1234567890 and s3cr3t-value")).toBe("Bearer *** and ***");
  });
});
