import { stripVTControlCharacters } from "node:util";
import {
  AuthError,
  ConflictError,
  createScriptedPrompter,
  InterruptedError,
  OperationError,
  UsageError,
} from "@lego/core";
import { describe, expect, it } from "vitest";
import { defineCommand, defineGroup } from "../src/framework/define.ts";
import { program } from "../src/program.ts";
import { oneJson, run } from "./helpers.ts";

const ESC = "\x1b[";
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

// A test-only command tree: each command fails in a different way, or waits for the signal.
const failCommand = defineCommand({
  meta: { name: "fail", description: "Fails with the given kind" },
  args: {
    kind: {
      type: "enum",
      options: ["usage", "operation", "auth", "conflict", "bug"],
      description: "How to fail",
    },
  },
  async run(_ctx, args) {
    switch (args.kind) {
      case "usage":
        throw new UsageError({ code: "ERR_TEST_USAGE", message: "bad input", hint: "pass better input" });
      case "operation":
        throw new OperationError({
          code: "ERR_TEST_OPERATION",
          message: "deploy failed",
          hint: "read the log",
        });
      case "auth":
        throw new AuthError({ code: "ERR_TEST_AUTH", message: "token rejected", hint: "run lego login" });
      case "conflict":
        throw new ConflictError({ code: "ERR_TEST_CONFLICT", message: "lock held by pid 42", hint: "wait" });
      default:
        throw new TypeError("undefined is not a function");
    }
  },
});
const waitCommand = defineCommand({
  meta: { name: "wait", description: "Waits until the signal aborts" },
  args: { ignore: { type: "boolean", description: "Ignore the signal" } },
  async run(ctx, args) {
    if (args.ignore) return new Promise(() => {});
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => reject(new InterruptedError()), { once: true });
    });
  },
});
const secretCommand = defineCommand({
  meta: { name: "leak", description: "Tries to print a registered secret" },
  async run(ctx) {
    ctx.redactor.add("s3cr3t-value-123");
    ctx.ui.info("note with s3cr3t-value-123");
    ctx.logger.warn("warning with s3cr3t-value-123");
    return { echoed: "s3cr3t-value-123" };
  },
});
const tasksCommand = defineCommand({
  meta: { name: "tasks", description: "Runs two tasks" },
  async run(ctx) {
    const tasks = ctx.ui.tasks();
    await tasks.run("First step", async (task) => task.update("halfway"));
    const second = tasks.add("Second step");
    second.skip("nothing to do");
    tasks.end();
    return { ok: true };
  },
});
const progressCommand = defineCommand({
  meta: { name: "progress", description: "Reports progress by events" },
  async run(ctx) {
    const tasks = ctx.ui.tasks();
    tasks.update("api: build", "running");
    tasks.update("api: build", "running", "bundling");
    tasks.update("api: build", "ok");
    tasks.update("api: deploy", "failed", "HTTP 500");
    tasks.update("auth: deploy", "skipped", "unchanged");
    tasks.end();
    return null;
  },
});
const askCommand = defineCommand({
  meta: { name: "ask", description: "Asks a question" },
  async run(ctx) {
    return { answer: await ctx.prompter.confirm({ message: "Proceed?", flag: "--yes" }) };
  },
});
const testCommands = [
  defineGroup({
    meta: { name: "t", description: "Test commands" },
    commands: [failCommand, waitCommand, secretCommand, tasksCommand, progressCommand, askCommand],
  }),
];

describe("help", () => {
  it("lego --help lists the command groups with one-line descriptions", async () => {
    const r = await run(["--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\s+local\s+Run the local cloud/m);
    expect(r.stdout).toMatch(/^\s+env\s+List the environment variables/m);
    expect(r.stdout).toMatch(/^\s+version\s+Print the lego version/m);
    expect(r.stdout).toContain("GLOBAL OPTIONS");
    expect(r.stdout).toContain(`v${program.version}`);
    expect(r.stderr).toBe("");
  });

  it("bare lego and bare groups print their help", async () => {
    expect((await run([])).stdout).toContain("USAGE lego");
    const local = await run(["local"]);
    expect(local.exitCode).toBe(0);
    expect(local.stdout).toContain("USAGE lego local up|status|down|reset");
  });

  it("--help on a command shows its flags and examples", async () => {
    const r = await run(["local", "up", "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("--port=<port>");
    expect(r.stdout).toContain("--zone=<example.com>");
    expect(r.stdout).toContain("EXAMPLES");
  });

  it("--help names a long flag alias with two dashes (citty would print -environment)", async () => {
    for (const command of [["deploy"], ["monitor"], ["db", "migrate"]]) {
      const r = await run([...command, "--help"]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("(also --environment)");
      expect(r.stdout).not.toMatch(/(^|[\s,])-environment\b/m);
    }
  });

  it("--version prints the version", async () => {
    const r = await run(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(`lego ${program.version}`);
  });
});

describe("exit codes", () => {
  it("0 on success", async () => {
    expect((await run(["version"])).exitCode).toBe(0);
  });

  it("2 for an unknown command, with a did-you-mean hint and no stack", async () => {
    const r = await run(["lcoal", "up"]);
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_UNKNOWN_COMMAND");
    expect(r.stderr).toContain('Unknown command "lcoal"');
    expect(r.stderr).toContain("Did you mean `lego local`?");
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe("");
  });

  it("2 for an unknown flag, naming it and suggesting the right one", async () => {
    const r = await run(["local", "up", "--prot", "8787"]);
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_UNKNOWN_FLAG");
    expect(r.stderr).toContain("Unknown flag --prot for `lego local up`");
    expect(r.stderr).toContain("Did you mean --port?");
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
  });

  it("2 for a bad flag value", async () => {
    const r = await run(["local", "up", "--port", "http"]);
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_FLAG_VALUE");
    expect(r.stderr).toContain('--port must be an integer from 0 to 65535 (got "http")');
  });

  it("2 for an invalid environment variable, naming it", async () => {
    const r = await run(["version"], { env: { LEGO_TARGET: "mars" } });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_ENV_INVALID");
    expect(r.stderr).toContain("LEGO_TARGET");
  });

  it.each([
    ["usage", 2, "ERR_TEST_USAGE"],
    ["operation", 1, "ERR_TEST_OPERATION"],
    ["auth", 3, "ERR_TEST_AUTH"],
    ["conflict", 4, "ERR_TEST_CONFLICT"],
    ["bug", 1, "ERR_INTERNAL"],
  ])("%s errors exit %i with %s, message and hint, no stack", async (kind, exitCode, code) => {
    const r = await run(["t", "fail", "--kind", kind], { commands: testCommands });
    expect(r.exitCode).toBe(exitCode);
    expect(r.error?.code).toBe(code);
    expect(r.stderr).not.toMatch(STACK_LINE);
    // A user error is the message and the hint; a system one adds "Run again with --debug".
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(exitCode === 1 ? 3 : 2);
  });

  it("--debug (or LEGO_DEBUG=1) shows the stack and the code", async () => {
    for (const options of [
      { argv: ["--debug"], env: {} },
      { argv: [], env: { LEGO_DEBUG: "1" } },
    ]) {
      const r = await run(["t", "fail", "--kind", "bug", ...options.argv], {
        commands: testCommands,
        env: options.env,
      });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(STACK_LINE);
      expect(r.stderr).toContain("code: ERR_INTERNAL, exit code: 1");
    }
  });

  it("130 when the signal aborts a command that honours it", async () => {
    const controller = new AbortController();
    const pending = run(["t", "wait"], { commands: testCommands, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const r = await pending;
    expect(r.exitCode).toBe(130);
    expect(r.error?.code).toBe("ERR_INTERRUPTED");
  });

  it("130 after the grace period when the command ignores the signal", async () => {
    const controller = new AbortController();
    const pending = run(["t", "wait", "--ignore"], {
      commands: testCommands,
      signal: controller.signal,
      abortGraceMs: 30,
    });
    setTimeout(() => controller.abort(), 10);
    const r = await pending;
    expect(r.exitCode).toBe(130);
  });
});

describe("--json", () => {
  it("prints exactly one { ok: true, data } document and nothing else on stdout", async () => {
    const r = await run(["version", "--json"]);
    expect(oneJson(r.stdout)).toEqual({ ok: true, data: { name: "lego", version: program.version } });
  });

  it("the flag works anywhere on the line", async () => {
    const r = await run(["--json", "version"]);
    expect(oneJson(r.stdout).ok).toBe(true);
  });

  it("prints exactly one { ok: false, error: { code, message, hint } } on failure", async () => {
    const r = await run(["t", "fail", "--kind", "auth", "--json"], { commands: testCommands });
    expect(r.exitCode).toBe(3);
    const doc = oneJson(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({
      code: "ERR_TEST_AUTH",
      message: "token rejected",
      hint: "run lego login",
    });
  });

  it("usage errors are JSON too", async () => {
    const r = await run(["nope", "--json"]);
    expect(r.exitCode).toBe(2);
    expect(oneJson(r.stdout).error.code).toBe("ERR_UNKNOWN_COMMAND");
  });

  it("task lists go to stderr as plain lines, never to stdout", async () => {
    const r = await run(["t", "tasks", "--json"], { commands: testCommands, isTTY: true });
    expect(oneJson(r.stdout)).toEqual({ ok: true, data: { ok: true } });
    expect(stripVTControlCharacters(r.stderr)).toMatch(/^✓ First step \(\d+ms\)$/m);
    expect(r.stderr).not.toContain(`${ESC}1A`);
  });
});

describe("output", () => {
  it("NO_COLOR turns colour off on a terminal; FORCE_COLOR turns it on in a pipe", async () => {
    const plain = await run(["t", "fail", "--kind", "usage"], {
      commands: testCommands,
      isTTY: true,
      env: { NO_COLOR: "1" },
    });
    expect(plain.stderr).toContain("✗ bad input");
    expect(plain.stderr).not.toContain(ESC);
    const tty = await run(["t", "fail", "--kind", "usage"], { commands: testCommands, isTTY: true });
    expect(tty.stderr).toContain(ESC);
    const forced = await run(["t", "fail", "--kind", "usage"], {
      commands: testCommands,
      isTTY: false,
      env: { FORCE_COLOR: "1" },
    });
    expect(forced.stderr).toContain(ESC);
    const piped = await run(["t", "fail", "--kind", "usage"], { commands: testCommands, isTTY: false });
    expect(piped.stderr).not.toContain(ESC);
  });

  it("help honours NO_COLOR too", async () => {
    const r = await run(["--help"], { isTTY: true, env: { NO_COLOR: "1" } });
    expect(r.stdout).not.toContain(ESC);
  });

  it("task lists are plain lines without a terminal and live (redrawn) on one", async () => {
    const plain = await run(["t", "tasks"], { commands: testCommands });
    expect(plain.stderr).toMatch(/^… First step$/m);
    expect(plain.stderr).toMatch(/^ {2}First step: halfway$/m);
    expect(plain.stderr).toMatch(/^✓ First step \(\d+ms\)$/m);
    expect(plain.stderr).toMatch(/^- Second step skipped: nothing to do$/m);
    expect(plain.stdout).toBe("ok: true\n");
    const live = await run(["t", "tasks"], { commands: testCommands, isTTY: true, env: { NO_COLOR: "1" } });
    expect(live.stderr).toContain(`${ESC}1A${ESC}2K`);
    expect(live.stderr).not.toContain(`${ESC}32m`);
  });

  it("tasks.update drives one task per title from progress events", async () => {
    const r = await run(["t", "progress"], { commands: testCommands });
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      "… api: build",
      "  api: build: bundling",
      expect.stringMatching(/^✓ api: build \(\d+ms\)$/),
      "✗ api: deploy HTTP 500",
      "- auth: deploy skipped: unchanged",
    ]);
  });

  it("registered secrets never reach stdout or stderr", async () => {
    for (const json of [false, true]) {
      const r = await run(["t", "leak", ...(json ? ["--json"] : [])], { commands: testCommands });
      expect(r.exitCode).toBe(0);
      expect(r.stdout + r.stderr).not.toContain("s3cr3t-value-123");
      expect(r.stdout + r.stderr).toContain("***");
    }
  });

  it("secret environment variables are redacted from everything printed", async () => {
    const echo = defineCommand({
      meta: { name: "echo", description: "Puts the token in an error message (a bug the redactor catches)" },
      async run(ctx) {
        throw new UsageError({ code: "ERR_X", message: `oops ${ctx.env.CLOUDFLARE_API_TOKEN}` });
      },
    });
    for (const argv of [["echo"], ["echo", "--json"]]) {
      const r = await run(argv, { commands: [echo], env: { CLOUDFLARE_API_TOKEN: "cf-token-abcdef" } });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("oops ***");
      expect(r.stdout + r.stderr).not.toContain("cf-token-abcdef");
    }
  });
});

describe("interactivity", () => {
  it("without a terminal a question is exit 2 naming the flag", async () => {
    const r = await run(["t", "ask"], { commands: testCommands, prompter: createScriptedPrompter([true]) });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_PROMPT_UNAVAILABLE");
    expect(r.stderr).toContain("Pass --yes.");
  });

  it("on a terminal the prompter answers", async () => {
    const prompter = createScriptedPrompter([true]);
    const r = await run(["t", "ask"], { commands: testCommands, isTTY: true, prompter });
    expect(r.exitCode).toBe(0);
    expect(r.data).toEqual({ answer: true });
    expect(prompter.asked).toEqual(["Proceed?"]);
  });

  it("never asks in CI or with --json, even on a terminal", async () => {
    for (const options of [
      { env: { CI: "true" }, argv: [] },
      { env: {}, argv: ["--json"] },
    ]) {
      const r = await run(["t", "ask", ...options.argv], {
        commands: testCommands,
        isTTY: true,
        env: options.env,
        prompter: createScriptedPrompter([true]),
      });
      expect(r.exitCode).toBe(2);
    }
  });
});

describe("command tree", () => {
  it("a command declaring a reserved flag fails loudly", async () => {
    const bad = defineCommand({
      meta: { name: "bad", description: "declares --json" },
      args: { json: { type: "boolean", description: "mine" } },
      async run() {
        return null;
      },
    });
    const r = await run(["bad"], { commands: [bad] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("declares --json, which the framework owns");
  });
});
