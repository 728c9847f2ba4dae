// What lego keeps under `.lego/` (reports, journals, the audit log, locks, the discovery cache) and the D1
// backups hold user data: after real runs against a local cloud (a deploy, a migration with its backup,
// a manual backup) every file there is 0600 and every folder 0700, `.lego` itself included.
import { lstat, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  type HomeWithCloud,
  homeWithLocalCloud,
  runBuilt,
  writeLedgerService,
} from "./built.ts";

// LEGO_E2E_BIN runs the test against a copy of the built CLI (a build elsewhere empties dist/ meanwhile).
const SCRIPT = process.env.LEGO_E2E_BIN ? { script: process.env.LEGO_E2E_BIN } : {};

describe.skipIf(process.platform === "win32")("files lego writes are private", () => {
  let local: HomeWithCloud;
  let root: string;
  let env: Record<string, string>;
  const lego = (args: string[]) =>
    runBuilt([...args, "--root", root, "--json"], { ...SCRIPT, env, timeout: 120_000 });

  beforeAll(async () => {
    if (!SCRIPT.script) assertBuilt();
    local = await homeWithLocalCloud();
    ({ root, env } = local);
    await writeLedgerService(
      root,
      { staging: "ledger-db-staging" },
      {
        "0001_init.sql":
          "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes (body) VALUES ('private');\n",
      },
    );
  }, 60_000);
  afterAll(async () => {
    await local?.dispose();
  });

  it("after a deploy, a migration and a backup: files 0600, folders 0700", async () => {
    const migrate = await lego(["db", "migrate", "ledger", "--env", "staging"]);
    expect(migrate.exitCode, migrate.stderr).toBe(0);
    const deploy = await lego(["deploy", "ledger", "--env", "staging", "--no-tests"]);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    const backup = await lego(["db", "backup", "ledger", "--env", "staging"]);
    expect(backup.exitCode, backup.stderr).toBe(0);

    const state = join(root, ".lego");
    const modes: Record<string, string> = {};
    const walk = async (dir: string): Promise<void> => {
      modes[`${relative(root, dir)}/`] = ((await lstat(dir)).mode & 0o777).toString(8);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else modes[relative(root, path)] = ((await lstat(path)).mode & 0o777).toString(8);
      }
    };
    await walk(state);
    const names = Object.keys(modes);
    // What the runs wrote: the audit log, a run's journal and reports, a D1 dump and its manifest.
    expect(names).toContain(".lego/audit.jsonl");
    expect(names.some((n) => /^\.lego\/runs\/[^/]+\/journal\.jsonl$/.test(n))).toBe(true);
    expect(names.some((n) => /^\.lego\/runs\/[^/]+\/report\.html$/.test(n))).toBe(true);
    expect(names.some((n) => /^\.lego\/backups\/ledger\/staging\/[^/]+\.sql$/.test(n))).toBe(true);
    const wrong = Object.entries(modes).filter(
      ([name, mode]) => mode !== (name.endsWith("/") ? "700" : "600"),
    );
    expect(wrong, JSON.stringify(modes, null, 2)).toEqual([]);
  }, 300_000);
});
