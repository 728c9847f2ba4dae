import { describe, expect, it } from "vitest";
import { expandSeedAlias, seedAliases, seedAliasFor } from "../src/framework/aliases.ts";
import { defineCommand, defineGroup } from "../src/framework/define.ts";
import { oneJson, run } from "./helpers.ts";

const alias = (name: string) => {
  const found = seedAliases[name];
  if (!found) throw new Error(`no alias ${name}`);
  return found;
};

describe("seed aliases", () => {
  it("covers every seed binary in package.json", async () => {
    const pkg = (await import("../package.json", { with: { type: "json" } })).default as {
      bin: Record<string, string>;
    };
    const names = Object.keys(pkg.bin).filter((n) => n !== "lego");
    expect(Object.keys(seedAliases).sort()).toEqual(names.sort());
    // Each seed name has its own entry (package managers' shims run files by path, losing the name).
    for (const name of names) expect(pkg.bin[name]).toBe(`./dist/bins/${name}.js`);
    expect(pkg.bin.lego).toBe("./dist/bin.js");
  });

  it("maps the seed's command lines onto lego's", () => {
    expect(expandSeedAlias(alias("lego-db"), ["migrate", "api", "--environment", "production"])).toEqual([
      "db",
      "migrate",
      "api",
      "--environment",
      "production",
    ]);
    expect(expandSeedAlias(alias("lego-init"), ["my-service", "--type", "api-gateway"])).toEqual([
      "init",
      "my-service",
      "--type",
      "api-gateway",
    ]);
    expect(expandSeedAlias(alias("lego-deploy"), ["deploy", "x"])).toEqual(["deploy", "x"]);
    expect(expandSeedAlias(alias("lego-deploy"), ["deploy-multi", "a", "b", "--parallel"])).toEqual([
      "deploy",
      "a",
      "b",
      "--parallel",
    ]);
    expect(expandSeedAlias(alias("lego-deploy"), ["my-service", "--env", "production"])).toEqual([
      "deploy",
      "my-service",
      "--env",
      "production",
    ]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["discover"])).toEqual(["list"]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["deploy", "--env", "staging"])).toEqual([
      "deploy",
      "--all",
      "--env",
      "staging",
    ]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["health"])).toEqual(["test", "--all"]);
    expect(expandSeedAlias(alias("lego-master-deploy"), ["monitor"])).toEqual(["runs", "list"]);
    expect(expandSeedAlias(alias("lego-master-deploy"), ["orchestrate", "--domains", "a,b"])).toEqual([
      "deploy",
      "--domains",
      "a,b",
    ]);
    expect(expandSeedAlias(alias("lego-secrets"), ["--domain", "x"])).toEqual([
      "secrets",
      "generate",
      "--domain",
      "x",
    ]);
    expect(expandSeedAlias(alias("lego-secrets"), ["list"])).toEqual(["secrets", "list"]);
  });

  it("recognises the binary name with or without an extension", () => {
    expect(seedAliasFor("lego-db")?.name).toBe("lego-db");
    expect(seedAliasFor("lego-db.js")?.name).toBe("lego-db");
    expect(seedAliasFor("lego")).toBeUndefined();
    expect(seedAliasFor("bin.js")).toBeUndefined();
  });

  const migrate = defineCommand({
    meta: { name: "migrate", description: "Migrate" },
    args: { service: { type: "positional", description: "Service" } },
    async run(_ctx, args) {
      return { migrated: args.service };
    },
  });
  const tree = [defineGroup({ meta: { name: "db", description: "D1" }, commands: [migrate] })];

  it("dispatches lego-db migrate x to lego db migrate x", async () => {
    const r = await run(["migrate", "api", "--json"], { commands: tree, binName: "lego-db" });
    expect(r.exitCode).toBe(0);
    expect(oneJson(r.stdout).data).toEqual({ migrated: "api" });
  });

  it("fails with exit 2 naming the missing lego command when the alias's target does not exist", async () => {
    const r = await run(["my-service", "--type", "api-gateway"], { commands: tree, binName: "lego-init" });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_COMMAND_UNAVAILABLE");
    expect(r.stderr).toContain("lego-init runs `lego init`, which this build of lego does not have");
  });

  it("an unknown verb under an existing group is an ordinary unknown command", async () => {
    const r = await run(["sync"], { commands: tree, binName: "lego-db" });
    expect(r.exitCode).toBe(2);
    expect(r.error?.code).toBe("ERR_UNKNOWN_COMMAND");
    expect(r.stderr).toContain('Unknown command "sync" for `lego db`');
  });
});
