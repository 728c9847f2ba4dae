import { describe, expect, it } from "vitest";
import { envRegistry, readEnv, resolveLegoHome, secretEnvNames } from "../src/index.ts";

describe("readEnv", () => {
  it("parses known variables and ignores unknown and empty ones", () => {
    const env = readEnv({
      LEGO_TARGET: "local",
      LEGO_DEBUG: "yes",
      LEGO_LOCAL_PORT: "8787",
      OTHER: "x",
      LEGO_HOME: "",
    });
    expect(env).toEqual({ LEGO_TARGET: "local", LEGO_DEBUG: true, LEGO_LOCAL_PORT: 8787 });
  });

  it("names the variable and the allowed values on a bad value", () => {
    expect(() => readEnv({ LEGO_TARGET: "staging" })).toThrowError(
      expect.objectContaining({
        code: "ERR_ENV_INVALID",
        exitCode: 2,
        message: expect.stringContaining("LEGO_TARGET"),
        hint: expect.stringContaining("local, cloudflare"),
      }),
    );
    expect(() => readEnv({ LEGO_DEBUG: "maybe" })).toThrowError(
      expect.objectContaining({ hint: expect.stringContaining("true, false") }),
    );
    expect(() => readEnv({ LEGO_LOCAL_PORT: "70000" })).toThrowError(/LEGO_LOCAL_PORT/);
    expect(readEnv({ LEGO_DEBUG: " TRUE " }).LEGO_DEBUG).toBe(true);
    expect(readEnv({ LEGO_DEBUG: "no" }).LEGO_DEBUG).toBe(false);
    expect(() => readEnv({ CLOUDFLARE_API_BASE_URL: "ftp://api.example/client/v4" })).toThrowError(
      /CLOUDFLARE_API_BASE_URL/,
    );
    expect(readEnv({ CLOUDFLARE_API_BASE_URL: "http://127.0.0.1:1/client/v4" }).CLOUDFLARE_API_BASE_URL).toBe(
      "http://127.0.0.1:1/client/v4",
    );
  });

  it("parses ports as digits only, and a token of only spaces is no token", () => {
    for (const bad of [" ", "0x10", "1e3", "-1", "80.5"]) {
      expect(() => readEnv({ LEGO_LOCAL_PORT: bad }), bad).toThrowError(/LEGO_LOCAL_PORT/);
    }
    expect(readEnv({ LEGO_LOCAL_PORT: " 0 " }).LEGO_LOCAL_PORT).toBe(0);
    expect(() => readEnv({ CLOUDFLARE_API_TOKEN: "   " })).toThrowError(/CLOUDFLARE_API_TOKEN/);
    expect(() => readEnv({ LEGO_VAULT_PASSPHRASE: "  " })).toThrowError(/LEGO_VAULT_PASSPHRASE/);
    // A token pasted with its newline is the token.
    expect(readEnv({ CLOUDFLARE_API_TOKEN: "tok-123\n" }).CLOUDFLARE_API_TOKEN).toBe("tok-123");
  });

  it("shows a bad value of an ordinary variable, and marks token and passphrase as secret", () => {
    expect(() => readEnv({ CLOUDFLARE_ACCOUNT_ID: "not-hex" })).toThrowError(/got "not-hex"/);
    expect(secretEnvNames).toContain("CLOUDFLARE_API_TOKEN");
    expect(secretEnvNames).toContain("LEGO_VAULT_PASSPHRASE");
  });

  it("documents every variable", () => {
    for (const [name, spec] of Object.entries(envRegistry)) {
      expect(spec.doc.length, name).toBeGreaterThan(10);
    }
  });

  it("resolves LEGO_HOME, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(resolveLegoHome({ LEGO_HOME: "/a" }, "/home/u")).toBe("/a");
    expect(resolveLegoHome({ XDG_CONFIG_HOME: "/x" }, "/home/u")).toBe("/x/lego");
    expect(resolveLegoHome({}, "/home/u")).toBe("/home/u/.config/lego");
  });
});

describe("checkLegoHome: a LEGO_HOME that cannot be a writable folder is exit 2 with a hint", () => {
  it("refuses a file, a path below a file, and kernel filesystems; accepts a folder to be made", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "lego-home-"));
    const file = join(dir, "file");
    await writeFile(file, "x");
    const refused = (path: string) => {
      try {
        resolveLegoHome({ LEGO_HOME: path });
      } catch (error) {
        return error as { code: string; exitCode: number; message: string; hint: string };
      }
      throw new Error(`${path} was accepted`);
    };
    expect(refused(file)).toMatchObject({ code: "ERR_ENV_INVALID", exitCode: 2 });
    expect(refused(file).message).toContain("is a file, not a folder");
    expect(refused(join(file, "sub")).message).toContain("which is a file");
    expect(refused(join(file, "sub")).hint).toMatch(/Point LEGO_HOME at a folder/);
    if (process.platform === "linux") {
      expect(refused("/proc/1/x").message).toContain("procfs");
      expect(refused("/sys/lego").message).toContain("sysfs");
    }
    expect(resolveLegoHome({ LEGO_HOME: join(dir, "new", "home") })).toBe(join(dir, "new", "home"));
  });
});
