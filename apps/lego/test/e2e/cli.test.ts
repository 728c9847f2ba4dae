import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandSeedAlias, type SeedAlias, seedAliases } from "../../src/framework/aliases.ts";
import { assertBuilt, binPath, runBuilt, tempHome } from "./built.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
beforeAll(async () => {
  assertBuilt();
  home = await tempHome();
});
afterAll(() => home?.dispose());

describe("built CLI", () => {
  it("--help lists the command groups", async () => {
    const r = await runBuilt(["--help"], { env: { LEGO_HOME: home.legoHome } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\s+local\s+Run the local cloud/m);
    expect(r.stdout).toMatch(/^\s+version\s+/m);
    expect(r.stderr).toBe("");
  });

  it("an unknown command exits 2 with one JSON document", async () => {
    const r = await runBuilt(["nope", "--json"], { env: { LEGO_HOME: home.legoHome } });
    expect(r.exitCode).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: "ERR_UNKNOWN_COMMAND" } });
  });
});

describe("seed aliases through a symlink", () => {
  it.each(Object.keys(seedAliases))("%s --help dispatches to its lego command or names it", async (name) => {
    const link = join(home.dir, name);
    await symlink(binPath, link);
    const r = await runBuilt(["--help", "--json"], { script: link, env: { LEGO_HOME: home.legoHome } });
    const doc = JSON.parse(r.stdout);
    const words = ["lego", ...expandSeedAlias(seedAliases[name] as SeedAlias, [])].join(" ");
    if (r.exitCode === 0) {
      // The target exists: the help shown is the mapped command's (lego's own for lego-portfolio).
      expect(doc.data.usage).toMatch(new RegExp(`^USAGE ${words}( |$)`, "m"));
    } else {
      expect(r.exitCode).toBe(2);
      expect(doc.error.code).toBe("ERR_COMMAND_UNAVAILABLE");
      expect(doc.error.message).toMatch(new RegExp(`^${name} runs \`lego \\S+`));
    }
  });

  it("lego-db migrate x is lego db migrate x", async () => {
    const link = join(home.dir, "lego-db");
    const r = await runBuilt(["migrate", "x", "--json"], { script: link, env: { LEGO_HOME: home.legoHome } });
    const doc = JSON.parse(r.stdout);
    if (doc.ok === false && doc.error.code === "ERR_COMMAND_UNAVAILABLE") {
      expect(doc.error.message).toContain("lego-db runs `lego db`");
      expect(r.exitCode).toBe(2);
    } else {
      // `lego db` exists: whatever it answers, it must not be lego's "unknown command migrate".
      expect(JSON.stringify(doc)).not.toContain('Unknown command \\"migrate\\" for `lego`');
    }
  });
});
