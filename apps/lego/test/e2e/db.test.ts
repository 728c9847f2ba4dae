import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneJson } from "../helpers.ts";
import {
  assertBuilt,
  d1Query,
  type HomeWithCloud,
  homeWithLocalCloud,
  runBuilt,
  writeLedgerService,
} from "./built.ts";

const M1 = "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);";
const M2 = "INSERT INTO notes (body) VALUES ('first'), ('second');";
const M3_BAD =
  "INSERT INTO notes (body) VALUES ('third');\nCREATE TABLE extra (x);\nINSERT INTO nope VALUES (1);";

describe("lego db against the local cloud", () => {
  let local: HomeWithCloud;
  let cloud: HomeWithCloud["cloud"];
  let root: string;
  let env: Record<string, string>;
  const lego = (args: string[]) => runBuilt([...args, "--root", root], { env, timeout: 120_000 });
  const query = (database: string, sql: string): Promise<unknown[]> => d1Query(cloud, database, sql);

  beforeAll(async () => {
    assertBuilt();
    local = await homeWithLocalCloud();
    ({ cloud, root, env } = local);
    await writeLedgerService(
      root,
      { staging: "ledger-db-staging", production: "ledger-db" },
      { "0001_init.sql": M1, "0002_seed.sql": M2 },
    );
  }, 60_000);
  afterAll(async () => {
    await local?.dispose();
  });

  it("migrates, then exits 1 with the data restored when a migration fails half-way", async () => {
    const first = await lego(["db", "migrate", "ledger", "--env", "staging", "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(oneJson(first.stdout).data.services[0].databases[0]).toMatchObject({
      outcome: "applied",
      pending: ["0001_init.sql", "0002_seed.sql"],
    });
    const before = await query("ledger-db-staging", "SELECT * FROM notes ORDER BY id");
    expect(before).toHaveLength(2);

    await writeFile(join(root, "services", "ledger", "migrations", "0003_bad.sql"), M3_BAD);
    const failed = await lego(["db", "migrate", "ledger", "--env", "staging", "--json"]);
    expect(failed.exitCode).toBe(1);
    const doc = oneJson(failed.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: "ERR_MIGRATION_FAILED" } });
    // D1 applies a migration file atomically: nothing of it applied, so nothing is restored (the
    // decision is made from d1_migrations, the schema and row counts, not from the error).
    expect(doc.error.message).toMatch(/^Migration 0003_bad\.sql failed .*Nothing of it was applied/s);
    expect(await query("ledger-db-staging", "SELECT * FROM notes ORDER BY id")).toEqual(before);
    expect(await query("ledger-db-staging", "SELECT name FROM sqlite_master WHERE name = 'extra'")).toEqual(
      [],
    );
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(audit.map((e) => e.action)).toContain("db.migrate.failed");
    expect(audit.map((e) => e.action)).not.toContain("db.restore.verified");
  }, 180_000);

  it("status --json lists pending migrations per environment", async () => {
    const r = await lego(["db", "status", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const dbs = oneJson(r.stdout).data.databases as Array<{ env: string; pending: Array<{ name: string }> }>;
    expect(dbs.map((d) => [d.env, d.pending.map((p) => p.name)])).toEqual([
      ["staging", ["0003_bad.sql"]],
      ["production", ["0001_init.sql", "0002_seed.sql", "0003_bad.sql"]],
    ]);
  }, 60_000);

  it("production without a terminal needs --yes (exit 2)", async () => {
    const r = await lego(["db", "migrate", "ledger", "--env", "production", "--json"]);
    expect(r.exitCode).toBe(2);
    expect(oneJson(r.stdout).error.hint).toContain("--yes");
  }, 60_000);

  it("restore from a named backup brings back deleted rows", async () => {
    const b = await lego(["db", "backup", "ledger", "--env", "staging", "--json"]);
    expect(b.exitCode, b.stderr).toBe(0);
    const id = oneJson(b.stdout).data.backups[0].id as string;
    // The backup recorded the database's Time Travel bookmark, and `db backups --json` shows it.
    const bookmark = oneJson(b.stdout).data.backups[0].bookmark as string;
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    const list = await lego(["db", "backups", "--service", "ledger", "--env", "staging", "--json"]);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(oneJson(list.stdout).data.backups.find((x: { id: string }) => x.id === id)).toMatchObject({
      bookmark,
    });
    await query("ledger-db-staging", "DELETE FROM notes");
    const r = await lego(["db", "restore", "ledger", "--env", "staging", "--from", id, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(oneJson(r.stdout).data.restored[0]).toMatchObject({
      backup: id,
      // The backup's Time Travel bookmark first: one atomic step, nothing dropped before it.
      method: "bookmark",
      rowCounts: { notes: 2 },
    });
    expect(await query("ledger-db-staging", "SELECT body FROM notes ORDER BY id")).toEqual([
      { body: "first" },
      { body: "second" },
    ]);
  }, 120_000);
});
