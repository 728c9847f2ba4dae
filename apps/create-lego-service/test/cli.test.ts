import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { captureOutput } from "@lego/cli-kit";
import { createScriptedPrompter, type Prompter } from "@lego/core";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { canPrompt, runCreateLegoServiceCli } from "../src/index.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-cli-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the CLI in-process with captured streams (not a TTY unless a prompter is scripted). */
async function run(argv: string[], prompter?: Prompter) {
  const { stdout, stderr, text } = captureOutput();
  const code = await runCreateLegoServiceCli({
    argv,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdin: new PassThrough(),
    stdout,
    stderr,
    ...(prompter ? { prompter } : {}),
  });
  return { code, stdout: text().out, stderr: text().err };
}

describe("create-lego-service in-process", () => {
  it("creates a service from flags and prints where, what and what next", async () => {
    const result = await run(["billing", "--type", "data-service", "--domain", "billing.example.com"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Created billing (data-service)");
    expect(result.stdout).toContain("https://staging-billing.example.com");
    expect(result.stdout).toContain("wrangler d1 migrations apply DB --remote --env staging");
    expect(existsSync(join(root, "billing/migrations/0001_init.sql"))).toBe(true);
  });

  it("prints exactly one JSON document with --json", async () => {
    const result = await run([
      "edge",
      "--type",
      "api-gateway",
      "--env",
      "qa,production",
      "--json",
      "--dir",
      "x/edge",
    ]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: true,
      data: {
        name: "edge",
        type: "api-gateway",
        dir: join(root, "x/edge"),
        dryRun: false,
        environments: [
          { name: "qa", hostname: "qa-edge.example.com", script: "edge-qa" },
          { name: "production", hostname: "edge.example.com", script: "edge-production" },
        ],
      },
    });
    expect(doc.data.files).toContain("src/worker/proxy.ts");
  });

  it("writes nothing with --dry-run", async () => {
    const result = await run(["site", "--type", "static-site", "--dry-run", "--json"]);
    expect(JSON.parse(result.stdout).data).toMatchObject({ dryRun: true, dir: "site" });
    expect(await readdir(root)).toEqual([]);
  });

  it("asks for what is missing on a terminal", async () => {
    const prompter = createScriptedPrompter(["ledger", "auth-service", "id.example.org", "staging"]);
    const result = await run([], prompter);
    expect(result.code).toBe(0);
    expect(prompter.asked).toEqual([
      "Service name",
      "Service type",
      "Production hostname",
      "Deployed environments (comma-separated)",
    ]);
    const wrangler = await readFile(join(root, "ledger/wrangler.jsonc"), "utf8");
    expect(wrangler).toContain('"pattern": "staging-id.example.org"');
    expect(wrangler).not.toContain('"production"');
  });

  it("without a terminal, a missing type is exit 2 naming --type", async () => {
    const result = await run(["svc"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Missing service type (--type)");
    expect(result.stderr).toContain("Pass --type");
    expect(result.stderr).not.toContain("    at ");
  });

  it("without a terminal, a missing name is exit 2 in the JSON error shape", async () => {
    const result = await run(["--type", "static-site", "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: {
        code: "ERR_SCAFFOLD_MISSING_OPTION",
        message: "Missing service name (<name>)",
        hint: expect.stringContaining("create-lego-service my-service"),
        exitCode: 2,
      },
    });
  });

  it("rejects an unknown flag, a flag without value and a second name with exit 2", async () => {
    expect((await run(["a1", "--type", "static-site", "--bogus"])).stderr).toContain("Unknown flag --bogus");
    expect((await run(["a1", "--type"])).code).toBe(2);
    expect((await run(["a1", "b1", "--type", "static-site"])).stderr).toContain('Unexpected argument "b1"');
  });

  it("suggests the closest flag for a typo, with exit 2 and no stack trace (@lego/cli-kit's parser)", async () => {
    const human = await run(["a1", "--type", "static-site", "--domian", "a.example.com"]);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain("Unknown flag --domian for `create-lego-service`");
    expect(human.stderr).toContain("Did you mean --domain?");
    expect(human.stderr).not.toContain("    at ");
    const json = await run(["a1", "--type", "static-site", "--domian", "a.example.com", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: {
        code: "ERR_UNKNOWN_FLAG",
        message: "Unknown flag --domian for `create-lego-service`",
        hint: "Did you mean --domain? Run `create-lego-service --help` to see its options.",
        exitCode: 2,
        details: { flag: "--domian" },
      },
    });
    const noValue = await run(["a1", "--type", "--json"]);
    expect(noValue.code).toBe(2);
    expect(JSON.parse(noValue.stdout).error).toMatchObject({
      code: "ERR_FLAG_VALUE",
      details: { flag: "type" },
    });
    expect(await readdir(root)).toEqual([]);
  });

  it("prints --help and --version with exit 0", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("USAGE create-lego-service");
    expect(help.stdout).toContain("--domain");
    expect(help.stdout).toContain("GLOBAL OPTIONS");
    expect(help.stdout).toContain("--json");
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("refuses a non-empty folder with exit 2", async () => {
    await mkdir(join(root, "busy"));
    await writeFile(join(root, "busy/index.js"), "");
    const result = await run(["busy", "--type", "static-site", "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe("ERR_SCAFFOLD_DIR_NOT_EMPTY");
    expect(await readdir(join(root, "busy"))).toEqual(["index.js"]);
  });

  it("prompts only on a terminal, outside CI and without --json", () => {
    const tty = { stdinIsTTY: true, stdoutIsTTY: true, env: {}, json: false };
    expect(canPrompt(tty)).toBe(true);
    expect(canPrompt({ ...tty, stdinIsTTY: false })).toBe(false);
    expect(canPrompt({ ...tty, stdoutIsTTY: false })).toBe(false);
    expect(canPrompt({ ...tty, env: { CI: "true" } })).toBe(false);
    expect(canPrompt({ ...tty, env: { CI: "0" } })).toBe(true);
    expect(canPrompt({ ...tty, env: { CI: "false" } })).toBe(true);
    expect(canPrompt({ ...tty, json: true })).toBe(false);
  });
});

describe("create-lego-service bin (built)", () => {
  const pkg = join(import.meta.dirname, "..");
  const bin = join(pkg, "dist/bin.js");

  beforeAll(async () => {
    // The repo's test task builds first; a bare `vitest run` after an edit rebuilds here rather than
    // testing a stale bin.
    const newest = async (dir: string): Promise<number> => {
      let max = 0;
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        max = Math.max(max, e.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs);
      }
      return max;
    };
    if (!existsSync(bin) || (await stat(bin)).mtimeMs < (await newest(join(pkg, "src")))) {
      await execa(process.execPath, [join(pkg, "../../node_modules/tsup/dist/cli-default.js")], {
        cwd: pkg,
      });
    }
  }, 60_000);

  const exec = (args: string[]) =>
    execa(process.execPath, [bin, ...args], { cwd: root, reject: false, env: { NO_COLOR: "1", CI: "true" } });

  it("creates a service and answers --json, exit 0", async () => {
    const result = await exec(["notes", "--type", "data-service", "--domain", "notes.example.com", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      data: { name: "notes", type: "data-service" },
    });
    expect(JSON.parse(await readFile(join(root, "notes/package.json"), "utf8")).name).toBe("notes");
  });

  it("exits 2 naming the missing flag, and again on a non-empty folder", async () => {
    const missing = await exec(["notes"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--type");
    expect(missing.stdout).toBe("");
    await exec(["notes", "--type", "static-site"]);
    const again = await exec(["notes", "--type", "static-site", "--json"]);
    expect(again.exitCode).toBe(2);
    expect(JSON.parse(again.stdout).error.code).toBe("ERR_SCAFFOLD_DIR_NOT_EMPTY");
  });

  it("prints help listing the types, exit 0", async () => {
    const help = await exec(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("api-gateway, data-service, auth-service, static-site");
    expect(help.stdout).toContain("--domain");
  });
});
