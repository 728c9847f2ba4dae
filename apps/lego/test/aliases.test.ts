import { describe, expect, it } from "vitest";
import {
  expandSeedAlias,
  hoistRoot,
  renderSeedForms,
  seedAliases,
  seedAliasFor,
} from "../src/framework/aliases.ts";
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
    expect(expandSeedAlias(alias("lego-master-deploy"), ["monitor"])).toEqual(["monitor"]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["analytics"])).toEqual(["analytics"]);
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

  it("maps the seed's other forms: deploy-multi/deploy-portfolio bins, flag spellings, bare lego-portfolio", () => {
    expect(expandSeedAlias(alias("lego-deploy-multi"), ["api", "auth", "--env", "staging"])).toEqual([
      "deploy",
      "api",
      "auth",
      "--env",
      "staging",
    ]);
    expect(expandSeedAlias(alias("lego-deploy-portfolio"), ["--env", "production"])).toEqual([
      "deploy",
      "--all",
      "--env",
      "production",
    ]);
    expect(expandSeedAlias(alias("lego-master-deploy"), ["validate", "--portfolio"])).toEqual([
      "validate",
      "--all",
    ]);
    // enterprise-deploy.js deploy --service x, enterprise-db-manager.js backup --database x
    expect(
      expandSeedAlias(alias("lego-deploy"), ["deploy", "--service", "api", "--environment", "production"]),
    ).toEqual(["deploy", "api", "--environment", "production"]);
    expect(expandSeedAlias(alias("lego-db"), ["backup", "--database=data"])).toEqual([
      "db",
      "backup",
      "data",
    ]);
    expect(expandSeedAlias(alias("lego-deploy"), ["deploy-portfolio"])).toEqual(["deploy", "--all"]);
    expect(expandSeedAlias(alias("lego-deploy"), ["list"])).toEqual(["list"]);
    // portfolio-manager.js create --name x
    expect(expandSeedAlias(alias("lego-portfolio"), ["create", "--name", "x"])).toEqual([
      "init",
      "--portfolio-name",
      "x",
    ]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["init", "--portfolio-name", "x"])).toEqual([
      "init",
      "--portfolio-name",
      "x",
    ]);
    // Bare lego-portfolio lists the portfolio; --root is never read as a verb or a command.
    expect(expandSeedAlias(alias("lego-portfolio"), ["--root", "X"])).toEqual(["list", "--root", "X"]);
    expect(expandSeedAlias(alias("lego-portfolio"), ["--root", "X", "health"])).toEqual([
      "test",
      "--all",
      "--root",
      "X",
    ]);
    expect(expandSeedAlias(alias("lego-db"), ["--root=X", "migrate", "api"])).toEqual([
      "db",
      "migrate",
      "api",
      "--root=X",
    ]);
    // Flags after `--` are left alone.
    expect(expandSeedAlias(alias("lego-deploy"), ["deploy", "api", "--", "--service", "x"])).toEqual([
      "deploy",
      "api",
      "--",
      "--service",
      "x",
    ]);
  });

  it("hoistRoot moves --root after the command words, for lego itself too", () => {
    expect(hoistRoot(["--root", "X", "deploy", "api"])).toEqual(["deploy", "api", "--root", "X"]);
    expect(hoistRoot(["deploy", "--root=X"])).toEqual(["deploy", "--root=X"]);
    expect(hoistRoot(["a", "--", "--root", "X"])).toEqual(["a", "--", "--root", "X"]);
  });

  it("every alias lists its seed forms with the lego command each runs", () => {
    for (const [name, a] of Object.entries(seedAliases)) {
      expect(a.seedForms.length, name).toBeGreaterThan(0);
      const text = renderSeedForms(name, a);
      expect(text).toMatch(/^SEED FORMS/);
      for (const form of a.seedForms) expect(text).toContain(`${name} ${form}`);
    }
    expect(renderSeedForms("lego-master-deploy", alias("lego-master-deploy"))).toMatch(
      /lego-master-deploy validate --portfolio += lego validate --all/,
    );
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

  it("--help of an alias starts with its seed forms, then the lego command's help", async () => {
    const r = await run(["migrate", "--help"], { commands: tree, binName: "lego-db" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /^SEED FORMS\n\n {2}lego-db migrate my-domain --environment production\s+= lego db migrate my-domain/,
    );
    expect(r.stdout).toContain("USAGE lego db migrate");
  });

  it("--root before the verb is not a command (lego-portfolio --root X)", async () => {
    const list = defineCommand({
      meta: { name: "list", description: "List" },
      args: { root: { type: "string", description: "Root" } },
      async run(_ctx, args) {
        return { root: args.root };
      },
    });
    const r = await run(["--root", "/p", "--json"], { commands: [list], binName: "lego-portfolio" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(oneJson(r.stdout).data).toEqual({ root: "/p" });
    const plain = await run(["--root", "/q", "list", "--json"], { commands: [list] });
    expect(oneJson(plain.stdout).data).toEqual({ root: "/q" });
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
