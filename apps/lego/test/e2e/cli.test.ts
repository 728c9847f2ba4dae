import { existsSync } from "node:fs";
import { symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandSeedAlias, type SeedAlias, seedAliases } from "../../src/framework/aliases.ts";
import { assertBuilt, binPath, runBuilt, tempHome } from "./built.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
beforeAll(async () => {
  assertBuilt();
  home = await tempHome();
});
afterAll(() => home?.dispose());

/** A symlink to the built bin.js named like a seed binary (as npm's bin links are). */
async function linkAs(name: string): Promise<string> {
  const link = join(home.dir, name);
  if (!existsSync(link)) await symlink(binPath, link);
  return link;
}

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
    const link = await linkAs(name);
    const r = await runBuilt(["--help", "--json"], { script: link, env: { LEGO_HOME: home.legoHome } });
    const doc = JSON.parse(r.stdout);
    // The command words the alias runs (flags it inserts, such as --all, are not in USAGE).
    const words = ["lego", ...expandSeedAlias(seedAliases[name] as SeedAlias, [])]
      .filter((w) => !w.startsWith("-"))
      .join(" ");
    if (r.exitCode === 0) {
      // The target exists: the help shown is its seed forms, then the mapped command's.
      expect(doc.data.usage).toMatch(new RegExp(`^SEED FORMS\\n\\n  ${name} `));
      expect(doc.data.usage).toMatch(new RegExp(`^USAGE ${words}( |$)`, "m"));
    } else {
      expect(r.exitCode).toBe(2);
      expect(doc.error.code).toBe("ERR_COMMAND_UNAVAILABLE");
      expect(doc.error.message).toMatch(new RegExp(`^${name} runs \`lego \\S+`));
    }
  });

  it("each seed binary's own entry (what pnpm's shims run) dispatches like the symlink", async () => {
    for (const name of Object.keys(seedAliases)) {
      const script = join(dirname(binPath), "bins", `${name}.js`);
      const viaEntry = await runBuilt(["--help", "--json"], { script, env: { LEGO_HOME: home.legoHome } });
      const viaLink = await runBuilt(["--help", "--json"], {
        script: await linkAs(name),
        env: { LEGO_HOME: home.legoHome },
      });
      expect(viaEntry.exitCode).toBe(viaLink.exitCode);
      expect(viaEntry.stdout).toBe(viaLink.stdout);
    }
  });

  it("lego-db migrate x is lego db migrate x", async () => {
    const link = await linkAs("lego-db");
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
