import { describe, expect, it } from "vitest";
import { parseArgv, parseIntegerFlag, withStandardAliases } from "../src/framework/args.ts";
import { type CommandNode, defineCommand, type LegoCommand } from "../src/framework/define.ts";

const defs = {
  service: { type: "positional", description: "Service" },
  env: { type: "string", alias: "e", description: "Environment", default: "production" },
  "dry-run": { type: "boolean", description: "Plan only" },
  yes: { type: "boolean", alias: "y", description: "Yes" },
  zone: { type: "string", multiple: true, description: "Zone" },
  mode: { type: "enum", options: ["fast", "safe"], description: "Mode" },
} as const;

const usageCode = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string; exitCode?: number }).exitCode === 2
      ? (error as { code: string }).code
      : "not a usage error";
  }
  return undefined;
};

describe("parseArgv", () => {
  it("parses positionals, defaults, camelCase booleans, repeatable and inline values", () => {
    const args = parseArgv(
      ["api", "--dry-run", "--zone", "a.com", "--zone=b.com", "-y", "--mode=safe"],
      defs,
      "lego x",
    );
    expect(args).toEqual({
      service: "api",
      env: "production",
      dryRun: true,
      yes: true,
      zone: ["a.com", "b.com"],
      mode: "safe",
    });
  });

  it("handles short aliases, --no-x and grouped booleans", () => {
    expect(parseArgv(["api", "-e", "staging", "--no-yes"], defs, "lego x")).toMatchObject({
      env: "staging",
      yes: false,
    });
    const grouped = parseArgv(
      ["api", "-y"],
      { ...defs, force: { type: "boolean", alias: "f", description: "" } },
      "x",
    );
    expect(grouped).toMatchObject({ yes: true, force: false });
  });

  it("keeps everything after -- as positionals", () => {
    const args = parseArgv(
      ["--", "--not-a-flag"],
      { rest: { type: "positional", description: "", multiple: true } },
      "x",
    );
    expect(args).toEqual({ rest: ["--not-a-flag"] });
  });

  it("rejects what it does not understand, with exit 2", () => {
    expect(usageCode(() => parseArgv(["api", "--dryrun"], defs, "x"))).toBe("ERR_UNKNOWN_FLAG");
    expect(usageCode(() => parseArgv(["api", "-q"], defs, "x"))).toBe("ERR_UNKNOWN_FLAG");
    expect(usageCode(() => parseArgv(["api", "--env"], defs, "x"))).toBe("ERR_FLAG_VALUE");
    expect(usageCode(() => parseArgv(["api", "--env", "a", "--env", "b"], defs, "x"))).toBe("ERR_FLAG_VALUE");
    expect(usageCode(() => parseArgv(["api", "--mode", "yolo"], defs, "x"))).toBe("ERR_FLAG_VALUE");
    expect(usageCode(() => parseArgv(["api", "--yes=maybe"], defs, "x"))).toBe("ERR_FLAG_VALUE");
    expect(usageCode(() => parseArgv([], defs, "x"))).toBe("ERR_MISSING_ARGUMENT");
    expect(usageCode(() => parseArgv(["api", "extra"], defs, "x"))).toBe("ERR_UNEXPECTED_ARGUMENT");
    expect(
      usageCode(() => parseArgv([], { token: { type: "string", required: true, description: "" } }, "x")),
    ).toBe("ERR_MISSING_ARGUMENT");
  });

  it("suggests the closest flag", () => {
    try {
      parseArgv(["api", "--dry-rn"], defs, "lego deploy");
      expect.unreachable();
    } catch (error) {
      expect((error as { hint: string }).hint).toContain("Did you mean --dry-run?");
    }
  });
});

describe("parseIntegerFlag", () => {
  it("parses integers within range and rejects the rest", () => {
    expect(parseIntegerFlag("0", "--port", { min: 0, max: 65535 })).toBe(0);
    expect(parseIntegerFlag(undefined, "--port")).toBeUndefined();
    for (const bad of ["", "8.5", "70000", "-1", "0x10", "abc"]) {
      expect(usageCode(() => parseIntegerFlag(bad, "--port", { min: 0, max: 65535 }))).toBe("ERR_FLAG_VALUE");
    }
  });
});

describe("one set of flags (standardFlagAliases)", () => {
  it("--environment is --env on every command that takes --env, declared once in the framework", () => {
    const cmd = defineCommand({
      meta: { name: "x", description: "x" },
      args: { env: { type: "string", description: "Environment" } },
      async run(_ctx, args) {
        return args.env;
      },
    });
    expect(parseArgv(["--environment", "staging"], cmd.args, "lego x")).toMatchObject({ env: "staging" });
    expect(parseArgv(["--environment=prod"], cmd.args, "lego x")).toMatchObject({ env: "prod" });
    expect(() => parseArgv(["--env", "a", "--environment", "b"], cmd.args, "lego x")).toThrow(
      /more than once/,
    );
  });

  it("keeps a command's own aliases and never takes a name the command declares itself", () => {
    const defs = withStandardAliases({
      env: { type: "string", alias: ["e"], description: "Environment" },
      environment: { type: "string", description: "Something else" },
    } as const);
    expect(defs.env.alias).toEqual(["e"]);
    const both = withStandardAliases({ env: { type: "string", alias: "e", description: "E" } } as const);
    expect(both.env.alias).toEqual(["e", "environment"]);
  });

  it("the validation level is --validation on deploy and validate, --level accepted on both", async () => {
    const { deployCommand } = await import("../src/commands/deploy.ts");
    const { validateCommand } = await import("../src/commands/validate.ts");
    for (const cmd of [deployCommand, validateCommand]) {
      const name = `lego ${cmd.meta.name}`;
      expect(Object.keys(cmd.args)).toContain("validation");
      expect(parseArgv(["--level", "basic"], cmd.args, name)).toMatchObject({ validation: "basic" });
      expect(parseArgv(["--validation", "comprehensive"], cmd.args, name)).toMatchObject({
        validation: "comprehensive",
      });
      expect(parseArgv(["--environment", "staging"], cmd.args, name)).toMatchObject({ env: "staging" });
    }
  });

  it("every command of lego that takes --env takes --environment", async () => {
    const { commands } = await import("../src/commands/index.ts");
    const walk = (nodes: readonly CommandNode[]): LegoCommand[] =>
      nodes.flatMap((n) => (n.kind === "group" ? walk(n.commands) : [n as LegoCommand]));
    const withEnv = walk(commands).filter((c) => c.args.env && c.args.env.type !== "positional");
    expect(withEnv.length).toBeGreaterThan(5);
    for (const c of withEnv) {
      const def = c.args.env as { alias?: string | readonly string[] };
      expect([def.alias ?? []].flat(), c.meta.name).toContain("environment");
    }
  });
});
