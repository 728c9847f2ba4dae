import { describe, expect, it } from "vitest";
import { splitSqlStatements, summarizeDump } from "../src/sql.ts";

describe("splitSqlStatements", () => {
  it("splits on semicolons outside strings, identifiers and comments", () => {
    const sql = `
      -- a comment; with a semicolon
      CREATE TABLE "we;ird" (a TEXT DEFAULT 'x;y', [b;c] INT, \`d;e\` INT);
      /* block; comment */
      INSERT INTO "we;ird" VALUES ('it''s; fine', 1, 2);
      SELECT 1`;
    expect(splitSqlStatements(sql)).toEqual([
      `-- a comment; with a semicolon
      CREATE TABLE "we;ird" (a TEXT DEFAULT 'x;y', [b;c] INT, \`d;e\` INT)`,
      `/* block; comment */
      INSERT INTO "we;ird" VALUES ('it''s; fine', 1, 2)`,
      "SELECT 1",
    ]);
  });

  it("keeps a trigger body whole: only the semicolon after END ends it", () => {
    const sql = `CREATE TABLE a(x);
CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN
  INSERT INTO log VALUES (new.x);
  UPDATE a SET x = x + 1;
END;
INSERT INTO a VALUES (1);`;
    const out = splitSqlStatements(sql);
    expect(out).toHaveLength(3);
    expect(out[1]).toMatch(/^CREATE TEMP TRIGGER t .*END$/s);
    expect(out[2]).toBe("INSERT INTO a VALUES (1)");
  });

  it("drops empty and comment-only statements", () => {
    expect(splitSqlStatements(";;  -- nothing\n; /* x */")).toEqual([]);
  });
});

describe("summarizeDump", () => {
  it("counts rows per user table from a D1 export, leaving out internal tables", () => {
    const dump = [
      "PRAGMA defer_foreign_keys=TRUE;",
      'CREATE TABLE IF NOT EXISTS "d1_migrations"(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);',
      `INSERT INTO "d1_migrations" ("id","name") VALUES(1,'0001_init.sql');`,
      'CREATE TABLE Notes (id INTEGER PRIMARY KEY, body TEXT, "values" TEXT);',
      `INSERT INTO "notes" ("id","body","values") VALUES(1,'a; b','(x)');`,
      `INSERT INTO "notes" ("id","body","values") VALUES(2,replace('line\\nbreak','\\n',char(10)),'VALUES (');`,
      "CREATE TABLE empty (x);",
      "DELETE FROM sqlite_sequence;",
      `INSERT INTO "sqlite_sequence" ("name","seq") VALUES('d1_migrations',1);`,
      "CREATE TRIGGER tr AFTER INSERT ON Notes BEGIN INSERT INTO empty VALUES (1); END;",
      "CREATE INDEX i ON Notes(body);",
    ].join("\n");
    const s = summarizeDump(dump);
    expect(s.rowCounts).toEqual({ d1_migrations: 1, Notes: 2, empty: 0 });
    expect(s.uncounted).toEqual([]);
    expect(s.statements).toBe(11);
  });

  it("counts multi-row VALUES and flags INSERT … SELECT as uncounted", () => {
    const s = summarizeDump(
      "CREATE TABLE t (a, b);\nINSERT INTO main.t (a, b) VALUES (1, '('), (2, ')') ON CONFLICT DO NOTHING;\nINSERT INTO t SELECT 3, 4;\nINSERT INTO [u] DEFAULT VALUES;",
    );
    expect(s.rowCounts).toEqual({ t: 2, u: 1 });
    expect(s.uncounted).toEqual(["t"]);
  });
});
