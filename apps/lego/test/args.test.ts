import { describe, expect, it } from "vitest";
import { parseArgv, parseIntegerFlag } from "../src/framework/args.ts";

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
