// `lego` and `create-lego-service` run on one command framework (@lego/cli-kit): the same parser,
// the same error shape and exit code for bad input, and the same interactivity decision.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import * as kit from "@lego/cli-kit";
import * as scaffolder from "create-lego-service";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCi, isInteractive } from "../src/framework/interactive.ts";
import { oneJson, run } from "./helpers.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-shared-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function runScaffolder(argv: string[], env: Record<string, string | undefined> = {}) {
  const { stdout, stderr, text } = kit.captureOutput();
  const code = await scaffolder.runCreateLegoServiceCli({
    argv,
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: new PassThrough(),
    stdout,
    stderr,
  });
  return { code, stdout: text().out, stderr: text().err };
}

describe("one command framework for both CLIs", () => {
  it("an unknown flag is the same error, in the same shape, with the same exit code", async () => {
    const argv = ["notes", "--type", "data-service", "--domian", "notes.example.com", "--json"];
    const lego = await run(["create", ...argv], { cwd: root });
    const scaffold = await runScaffolder(argv);
    expect(lego.exitCode).toBe(2);
    expect(scaffold.code).toBe(2);
    const legoError = oneJson(lego.stdout).error;
    const scaffoldError = oneJson(scaffold.stdout).error;
    expect(Object.keys(scaffoldError).sort()).toEqual(Object.keys(legoError).sort());
    for (const error of [legoError, scaffoldError]) {
      expect(error).toMatchObject({ code: "ERR_UNKNOWN_FLAG", exitCode: 2, details: { flag: "--domian" } });
      expect(error.hint).toMatch(/^Did you mean --domain\? Run `.+ --help` to see its options\.$/);
    }
    expect(legoError.message).toBe("Unknown flag --domian for `lego create`");
    expect(scaffoldError.message).toBe("Unknown flag --domian for `create-lego-service`");
    // Human output: the same lines on stderr, no stack trace.
    const legoText = await run(["create", ...argv.slice(0, -1)], { cwd: root });
    const scaffoldText = await runScaffolder(argv.slice(0, -1));
    const shape = (s: string) => s.replace(/`[^`]+`/g, "`…`");
    expect(shape(scaffoldText.stderr)).toBe(shape(legoText.stderr));
    expect(scaffoldText.stderr).not.toContain("    at ");
    expect(await readdir(root)).toEqual([]);
  });

  it("a flag without its value is ERR_FLAG_VALUE, exit 2, in both", async () => {
    const lego = await run(["create", "notes", "--type", "--json"], { cwd: root });
    const scaffold = await runScaffolder(["notes", "--type", "--json"]);
    expect(lego.exitCode).toBe(2);
    expect(scaffold.code).toBe(2);
    expect(oneJson(scaffold.stdout).error).toMatchObject({
      code: "ERR_FLAG_VALUE",
      details: { flag: "type" },
    });
    expect(oneJson(lego.stdout).error).toMatchObject({ code: "ERR_FLAG_VALUE", details: { flag: "type" } });
  });

  it("decides interactivity with one function: CI=0 and CI=false are not CI", () => {
    expect(scaffolder.isCi).toBe(kit.isCi);
    expect(scaffolder.canPrompt).toBe(kit.canPrompt);
    expect(isCi).toBe(kit.isCi);
    expect(isInteractive).toBe(kit.isInteractive);
    const tty = { stdinIsTTY: true, stdoutIsTTY: true, json: false };
    for (const ci of ["0", "false", "FALSE", "", undefined]) {
      expect(isInteractive({ ...tty, ci })).toBe(true);
      expect(scaffolder.canPrompt({ ...tty, env: { CI: ci } })).toBe(true);
    }
    for (const ci of ["1", "true"]) {
      expect(isInteractive({ ...tty, ci })).toBe(false);
      expect(scaffolder.canPrompt({ ...tty, env: { CI: ci } })).toBe(false);
    }
  });

  it("--help is rendered by the same renderer", async () => {
    const lego = await run(["create", "--help"], { cwd: root });
    const scaffold = await runScaffolder(["--help"]);
    for (const text of [lego.stdout, scaffold.stdout]) {
      expect(text).toMatch(/^USAGE /m);
      expect(text).toContain("--domain=<host>");
      expect(text).toContain("EXAMPLES");
      expect(text).toContain("GLOBAL OPTIONS");
    }
  });
});
