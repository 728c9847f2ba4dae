import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { LEGO_CONFIG_FILES, scanPortfolio } from "@lego/discovery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  askChoice,
  askUser,
  askYesNo,
  initPortfolio,
  initService,
  PORTFOLIO_CONFIG_FILES,
  parseSeedDomains,
} from "../src/index.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-portfolio-init-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const thrown = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; exitCode?: number; message: string; hint?: string };
  }
  throw new Error("expected a throw");
};

describe("initPortfolio (lego init --portfolio-name, the seed's lego-portfolio init)", () => {
  it("writes lego.config.json with the name and globs, services/, a README and .gitignore for .lego/", async () => {
    const result = await initPortfolio({ root: "shop", cwd: dir, name: "my-enterprise" });
    const root = join(dir, "shop");
    expect(result).toMatchObject({
      action: "portfolio",
      root,
      name: "my-enterprise",
      services: ["services/*"],
    });
    expect(JSON.parse(await readFile(join(root, "lego.config.json"), "utf8"))).toEqual({
      name: "my-enterprise",
      services: ["services/*"],
    });
    expect(existsSync(join(root, "services", ".gitkeep"))).toBe(true);
    expect(await readFile(join(root, "README.md"), "utf8")).toMatch(/^# my-enterprise\n/);
    expect((await readFile(join(root, ".gitignore"), "utf8")).split("\n")).toContain(".lego/");
    expect(result.written.sort()).toEqual([
      ".gitignore",
      "README.md",
      "lego.config.json",
      "services/.gitkeep",
    ]);
    // Discovery reads it: a portfolio with no services yet.
    const portfolio = await scanPortfolio({ root, cache: false });
    expect(portfolio.services).toEqual([]);
    expect(portfolio.patterns).toEqual(["services/*"]);
  });

  it("with a first service: scaffolds services/<name> that discovery finds", async () => {
    const result = await initPortfolio({
      root: ".",
      cwd: dir,
      name: "shop",
      service: { name: "api", type: "api-gateway", domain: "api.shop.test" },
    });
    expect(result.service).toMatchObject({ name: "api", dir: "services/api" });
    expect(existsSync(join(dir, "services", ".gitkeep"))).toBe(false);
    const portfolio = await scanPortfolio({ root: dir, cache: false });
    expect(portfolio.services.map((s) => s.name)).toEqual(["api"]);
    expect(portfolio.services[0]?.environments.production?.hostname).toBe("api.shop.test");
  });

  it("refuses an existing portfolio with exit 2 and a hint, writing nothing", async () => {
    await initPortfolio({ root: ".", cwd: dir, name: "one" });
    const before = await readFile(join(dir, "lego.config.json"), "utf8");
    const again = await thrown(() => initPortfolio({ root: ".", cwd: dir, name: "two" }));
    expect(again).toMatchObject({ code: "ERR_PORTFOLIO_EXISTS", exitCode: 2 });
    expect(again.hint).toMatch(/--root/);
    expect(await readFile(join(dir, "lego.config.json"), "utf8")).toBe(before);
    // A services/ folder with services in it is a portfolio too.
    const other = join(dir, "other");
    await mkdir(join(other, "services", "api"), { recursive: true });
    expect(await thrown(() => initPortfolio({ root: other, cwd: dir, name: "x" }))).toMatchObject({
      code: "ERR_PORTFOLIO_EXISTS",
    });
    expect(existsSync(join(other, "lego.config.json"))).toBe(false);
  });

  it("keeps an existing .gitignore and adds .lego/ once; rejects a bad name", async () => {
    await writeFile(join(dir, ".gitignore"), "dist");
    await initPortfolio({ root: ".", cwd: dir, name: "p" });
    expect(await readFile(join(dir, ".gitignore"), "utf8")).toBe("dist\n.lego/\n");
    expect(await thrown(() => initPortfolio({ root: "x", cwd: dir, name: "a b" }))).toMatchObject({
      code: "ERR_PORTFOLIO_NAME_INVALID",
      exitCode: 2,
    });
  });

  it("knows the same config file names as @lego/discovery", () => {
    expect([...PORTFOLIO_CONFIG_FILES]).toEqual([...LEGO_CONFIG_FILES]);
  });
});

describe("the seed's --domains host:account:zone", () => {
  const account = "0123456789abcdef0123456789abcdef";
  it("assigns each hostname an environment: staging./dev. prefixes, else production", () => {
    expect(parseSeedDomains(`api.example.com:${account}:zone1, staging.example.com:acc2:zone2`)).toEqual([
      { environment: "production", hostname: "api.example.com", accountId: account, zoneId: "zone1" },
      { environment: "staging", hostname: "staging.example.com", accountId: "acc2", zoneId: "zone2" },
    ]);
    expect(parseSeedDomains("dev-api.example.com")).toEqual([
      { environment: "dev", hostname: "dev-api.example.com" },
    ]);
  });

  it("rejects two hostnames for one environment and malformed entries (exit 2)", () => {
    expect(() => parseSeedDomains("a.example.com,b.example.com")).toThrow(/two hostnames for production/);
    expect(() => parseSeedDomains("a.example.com:1:2:3")).toThrow(/not host\[:account\[:zone\]\]/);
    expect(() => parseSeedDomains(" , ")).toThrow(/no hostname/);
  });

  it("initService --domains writes each environment's hostname and the production account and zone", async () => {
    const result = await initService({
      dir: "services/my-service",
      cwd: dir,
      type: "api-gateway",
      domains: `api.example.com:${account}:${account},staging.example.com:${account}:${account}`,
      env: {},
    });
    expect(result.action).toBe("scaffold");
    const portfolio = await scanPortfolio({ root: dir, cache: false });
    const service = portfolio.services.find((s) => s.name === "my-service");
    expect(service?.environments.production?.hostname).toBe("api.example.com");
    expect(service?.environments.staging?.hostname).toBe("staging.example.com");
    expect(
      await readFile(join(dir, "services", "my-service", "src", "config", "domains.ts"), "utf8"),
    ).toContain(account);
  });
});

describe("askUser, askYesNo, askChoice (the seed's prompt helpers)", () => {
  const noTty = { input: new PassThrough(), output: new PassThrough(), env: {} };
  it("without a terminal throw ERR_PROMPT_UNAVAILABLE (exit 2) at once instead of waiting", async () => {
    for (const ask of [
      () => askUser("Name?", "api", noTty),
      () => askYesNo("Deploy to production?", false, noTty),
      () => askChoice("Select environment:", ["staging", "production"], noTty),
    ]) {
      const error = await thrown(ask);
      expect(error).toMatchObject({ code: "ERR_PROMPT_UNAVAILABLE", exitCode: 2 });
      expect(error.message).toMatch(/without a terminal/);
    }
  });

  it("in CI, even on terminals, they refuse too", async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const error = await thrown(() =>
      askYesNo("Sure?", true, { input: tty, output: tty, env: { CI: "true" } }),
    );
    expect(error.code).toBe("ERR_PROMPT_UNAVAILABLE");
  });

  it("askChoice with no choices is a programming error", async () => {
    await expect(askChoice("Pick:", [], noTty)).rejects.toThrow(TypeError);
  });
});
