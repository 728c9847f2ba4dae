import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { breakingMigrationError, findBreakingChanges, findBreakingMigrations } from "../src/index.ts";

describe("findBreakingChanges", () => {
  it("finds drops and renames of tables and columns", () => {
    const sql = `
      -- 0003: contract
      DROP TABLE IF EXISTS legacy_sessions;
      ALTER TABLE users DROP COLUMN nickname;
      ALTER TABLE "order items" RENAME TO order_lines;
      ALTER TABLE main.users RENAME COLUMN name TO full_name;
      alter table [people] rename [age] to years;
      ALTER TABLE t DROP c2;
    `;
    expect(findBreakingChanges(sql).map(({ statement: _, ...c }) => c)).toEqual([
      { kind: "drop-table", table: "legacy_sessions" },
      { kind: "drop-column", table: "users", column: "nickname" },
      { kind: "rename-table", table: "order items", to: "order_lines" },
      { kind: "rename-column", table: "users", column: "name", to: "full_name" },
      { kind: "rename-column", table: "people", column: "age", to: "years" },
      { kind: "drop-column", table: "t", column: "c2" },
    ]);
    expect(findBreakingChanges("ALTER TABLE users\n  DROP   COLUMN x;")[0]?.statement).toBe(
      "ALTER TABLE users DROP COLUMN x",
    );
  });

  it("passes additive changes, data changes, and look-alikes in strings and comments", () => {
    const sql = `
      CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
      ALTER TABLE users ADD COLUMN full_name TEXT;
      CREATE INDEX idx_users_name ON users(full_name);
      DROP INDEX IF EXISTS idx_old;
      DROP VIEW IF EXISTS v_users;
      DROP TRIGGER IF EXISTS t_users;
      UPDATE users SET full_name = name WHERE full_name IS NULL;
      INSERT INTO notes (body) VALUES ('DROP TABLE users; ALTER TABLE users DROP COLUMN name');
      /* DROP TABLE users; */
      -- ALTER TABLE users RENAME TO people;
      CREATE TRIGGER keep AFTER INSERT ON users BEGIN UPDATE users SET full_name = NEW.name; END;
    `;
    expect(findBreakingChanges(sql)).toEqual([]);
  });
});

describe("findBreakingMigrations and its error", () => {
  it("names each file and statement, exits 2 and hints at expand/contract", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lego-compat-"));
    try {
      await writeFile(join(dir, "0001_init.sql"), "CREATE TABLE users (id INTEGER, name TEXT);");
      await writeFile(join(dir, "0002_rename.sql"), "ALTER TABLE users RENAME COLUMN name TO full_name;");
      const found = await findBreakingMigrations(
        ["0001_init.sql", "0002_rename.sql"].map((name) => ({ name, path: join(dir, name) })),
      );
      expect(found.map((f) => f.migration)).toEqual(["0002_rename.sql"]);
      const error = breakingMigrationError(found, {
        service: "api",
        env: "staging",
        database: "api-db",
        why: "during a canary deploy",
      });
      expect(error.exitCode).toBe(2);
      expect(error.code).toBe("ERR_MIGRATION_NOT_BACKWARD_COMPATIBLE");
      expect(error.message).toContain("0002_rename.sql");
      expect(error.message).toContain("renames a column");
      expect(error.message).toContain("ALTER TABLE users RENAME COLUMN name TO full_name");
      expect(error.hint).toMatch(/expand\/contract/i);
      expect(error.hint).toContain("--force");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
