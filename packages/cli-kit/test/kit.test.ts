import { OperationError, UsageError } from "@lego/core";
import { describe, expect, it } from "vitest";
import {
  canPrompt,
  captureOutput,
  closest,
  defineCommand,
  errorLines,
  extractGlobalFlags,
  isCi,
  parseArgv,
  parseIntegerFlag,
  renderHelp,
  runCommand,
  shouldUseColor,
} from "../src/index.ts";

const greet = defineCommand({
  meta: { name: "greet", description: "Greet someone", examples: ["greet Ada --loud"] },
  version: "1.2.3",
  args: {
    name: { type: "positional", description: "Who to greet" },
    loud: { type: "boolean", description: "Shout" },
    "times-over": { type: "string", description: "How often", valueHint: "n" },
    tone: { type: "enum", options: ["warm", "cool"], description: "Tone" },
  },
  async run(ctx, args) {
    if (args.name === "boom") throw new Error("kaboom");
    if (args.name === "nope") throw new OperationError({ code: "ERR_NOPE", message: "No", hint: "Try yes." });
    const times = parseIntegerFlag(args.timesOver, "--times-over", { min: 1, max: 3 }) ?? 1;
    return {
      greeting: `Hello, ${args.name}${args.loud ? "!" : ""}`.repeat(times),
      interactive: ctx.interactive,
    };
  },
  human(result, out) {
    out.print(out.style("bold", result.greeting));
  },
});

async function run(argv: string[], env: Record<string, string | undefined> = {}, tty = false) {
  const s = captureOutput(tty);
  const outcome = await runCommand(greet, argv, {
    env,
    stdin: { isTTY: tty },
    stdout: s.stdout,
    stderr: s.stderr,
  });
  return { ...outcome, stdout: s.text().out, stderr: s.text().err };
}

describe("parseArgv", () => {
  const defs = {
    name: { type: "positional", description: "n", required: false },
    "dry-run": { type: "boolean", description: "d" },
    zone: { type: "string", description: "z", multiple: true, alias: "z" },
  } as const;

  it("types flags in camelCase, with defaults for booleans and repeatables", () => {
    expect(parseArgv(["x", "--dry-run", "-z", "a", "--zone=b"], defs, "cmd")).toEqual({
      name: "x",
      dryRun: true,
      zone: ["a", "b"],
    });
    expect(parseArgv([], defs, "cmd")).toEqual({ dryRun: false, zone: [] });
    expect(parseArgv(["--no-dry-run"], defs, "cmd")).toMatchObject({ dryRun: false });
  });

  it("an unknown flag is a UsageError (exit 2) with the closest flag as a hint", () => {
    const error = (() => {
      try {
        parseArgv(["--dry-rn"], defs, "cmd");
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: "ERR_UNKNOWN_FLAG", exitCode: 2, details: { flag: "--dry-rn" } });
    expect(error?.hint).toBe("Did you mean --dry-run? Run `cmd --help` to see its options.");
  });

  it("a missing value, a second positional and a bad boolean are exit 2", () => {
    expect(() => parseArgv(["--zone"], defs, "cmd")).toThrow(/--zone of `cmd` needs a value/);
    expect(() => parseArgv(["a", "b"], defs, "cmd")).toThrow(/Unexpected argument "b"/);
    expect(() => parseArgv(["--dry-run=maybe"], defs, "cmd")).toThrow(/is a switch/);
  });
});

describe("runCommand", () => {
  it("renders the result for people, or as one JSON document", async () => {
    const human = await run(["Ada", "--loud"]);
    expect(human).toMatchObject({ exitCode: 0, stdout: "Hello, Ada!\n", stderr: "" });
    const json = await run(["Ada", "--json", "--times-over", "2"]);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      data: { greeting: "Hello, AdaHello, Ada", interactive: false },
    });
  });

  it("bad input is exit 2 naming the flag; --json puts the error in the document", async () => {
    const human = await run(["Ada", "--lodu"]);
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toBe(
      "✗ Unknown flag --lodu for `greet`\n  Did you mean --loud? Run `greet --help` to see its options.\n",
    );
    const json = await run(["Ada", "--tone", "hot", "--json"]);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout).error).toEqual({
      code: "ERR_FLAG_VALUE",
      message: 'Invalid value "hot" for --tone of `greet`',
      hint: "Use one of: warm, cool.",
      exitCode: 2,
      details: { flag: "tone" },
    });
    expect((await run(["Ada", "--times-over", "9"])).exitCode).toBe(2);
  });

  it("maps errors to their exit codes and shows a stack only with --debug", async () => {
    const failed = await run(["nope"]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.startsWith("✗ No\n  Try yes.\n")).toBe(true);
    const bug = await run(["boom"]);
    expect(bug.exitCode).toBe(1);
    expect(bug.stderr).toContain("Run again with --debug for details.");
    expect(bug.stderr).not.toContain("    at ");
    expect((await run(["boom", "--debug"])).stderr).toContain("    at ");
    expect((await run(["boom"], { LEGO_DEBUG: "1" })).stderr).toContain("code: ERR_INTERNAL, exit code: 1");
  });

  it("prints --help (usage, examples, global options) and --version", async () => {
    const help = await run(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Greet someone (greet v1.2.3)");
    expect(help.stdout).toContain("--times-over=<n>");
    expect(help.stdout).toContain("EXAMPLES\n\n  greet Ada --loud");
    expect(help.stdout).toContain("--version  Print the greet version");
    expect(JSON.parse((await run(["-h", "--json"])).stdout).data.usage).toContain("USAGE greet");
    expect((await run(["--version"])).stdout).toBe("1.2.3\n");
  });

  it("is interactive only on terminals, outside CI (CI=0 is not CI), without --json", async () => {
    expect((await run(["Ada", "--json"], {}, true)).data).toMatchObject({ interactive: false });
    expect((await run(["Ada"], { CI: "0", NO_COLOR: "1" }, true)).data).toMatchObject({ interactive: true });
    expect((await run(["Ada"], { CI: "true" }, true)).data).toMatchObject({ interactive: false });
  });

  it("refuses a command that declares a flag the kit owns", () => {
    expect(() =>
      defineCommand({
        meta: { name: "x", description: "x" },
        args: { json: { type: "boolean", description: "mine" } },
        run: async () => null,
      }),
    ).toThrow(/--json, which the kit owns/);
  });
});

describe("the decisions", () => {
  it("CI: set and not empty, 0 or false", () => {
    expect([undefined, "", "0", "false", "False", " 0 "].map(isCi)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(["1", "true", "yes"].map(isCi)).toEqual([true, true, true]);
    const tty = { stdinIsTTY: true, stdoutIsTTY: true, env: {}, json: false };
    expect(canPrompt(tty)).toBe(true);
    expect(canPrompt({ ...tty, stdinIsTTY: false })).toBe(false);
  });

  it("colour: FORCE_COLOR wins, then NO_COLOR, then the terminal", () => {
    expect(shouldUseColor({ FORCE_COLOR: "1", NO_COLOR: "1" }, false)).toBe(true);
    expect(shouldUseColor({ FORCE_COLOR: "0" }, true)).toBe(false);
    expect(shouldUseColor({ NO_COLOR: "1" }, true)).toBe(false);
    expect(shouldUseColor({}, true)).toBe(true);
  });

  it("suggests only plausible typos", () => {
    expect(closest("domian", ["domain", "dir", "env"])).toBe("domain");
    expect(closest("zzzzzz", ["domain", "dir"])).toBeUndefined();
  });

  it("takes the global flags out of argv, but not after --", () => {
    expect(extractGlobalFlags(["a", "--json", "-h", "--", "--debug"])).toEqual({
      flags: { json: true, debug: false, help: true, version: false },
      rest: ["a", "--", "--debug"],
    });
  });

  it("renders a group's commands and an error without colour", async () => {
    const text = await renderHelp(
      { kind: "group", meta: { name: "tool", description: "A tool" }, commands: [greet] },
      [],
      { color: false, globalFlags: [], footer: "Bye." },
    );
    expect(text).toContain("greet");
    expect(text.trimEnd().endsWith("Bye.")).toBe(true);
    expect(text).not.toContain("GLOBAL OPTIONS");
    const lines = errorLines(new UsageError({ code: "ERR_X", message: "Bad", hint: "Fix." }), {
      color: false,
      debug: false,
    });
    expect(lines).toEqual(["✗ Bad", "  Fix."]);
  });
});
