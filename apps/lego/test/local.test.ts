import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createScriptedPrompter } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { oneJson, run } from "./helpers.ts";

let legoHome: string;
beforeEach(async () => {
  legoHome = await mkdtemp(join(tmpdir(), "lego-local-"));
});
afterEach(() => rm(legoHome, { recursive: true, force: true }));

describe("lego local reset", () => {
  it("needs --yes without a terminal (exit 2, hint names the flag)", async () => {
    const r = await run(["local", "reset", "--json"], { env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(2);
    expect(oneJson(r.stdout).error).toMatchObject({ code: "ERR_PROMPT_UNAVAILABLE", hint: "Pass --yes." });
  });

  it("asks on a terminal, and a no deletes nothing", async () => {
    const prompter = createScriptedPrompter([false]);
    const r = await run(["local", "reset"], { env: { LEGO_HOME: legoHome }, isTTY: true, prompter });
    expect(r.exitCode).toBe(0);
    expect(r.data).toEqual({ reset: false, stopped: false });
    expect(prompter.asked[0]).toContain(join(legoHome, "local"));
    expect((await stat(legoHome)).isDirectory()).toBe(true);
    expect(r.stdout).toBe("Nothing deleted.\n");
  });
});

describe("lego local up", () => {
  it("rejects a bad port before touching the emulator", async () => {
    const r = await run(["local", "up", "--port", "99999"], { env: { LEGO_HOME: legoHome } });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_FLAG_VALUE");
  });
});
