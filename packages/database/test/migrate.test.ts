import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, createScriptedPrompter, isLegoError, LegoError } from "@lego/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAuditLog } from "../src/audit.ts";
import { createBackup, findBackup, listBackups, pruneBackups } from "../src/backup.ts";
import type { DatabaseContext } from "../src/context.ts";
import { migrateService } from "../src/migrate.ts";
import type { D1Target } from "../src/ports.ts";
import { restoreBackup } from "../src/restore.ts";
import { CHECKSUM_TABLE, readDatabaseStatus } from "../src/status.ts";
import { createSqliteD1, type SqliteD1 } from "./support/sqlite-d1.ts";

let root: string;
let fake: SqliteD1;
let target: D1Target;
let ctx: DatabaseContext;

const M1 = "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);";
const M2 =
  "INSERT INTO notes (body) VALUES ('first'), ('it''s; second');\nCREATE TABLE tags (note_id INTEGER REFERENCES notes(id), tag TEXT);\nINSERT INTO tags VALUES (1, 'a');";
// Fails half-way: the first two statements succeed before the third errors.
const M3_BAD =
  "INSERT INTO notes (body) VALUES ('third');\nCREATE TABLE extra (x);\nINSERT INTO no_such_table VALUES (1);\nDELETE FROM notes;";

async function migration(name: string, text: string) {
  await mkdir(join(target.serviceDir, "migrations"), { recursive: true });
  await writeFile(join(target.serviceDir, "migrations", name), text);
}

function rows(table: string) {
  return fake.db("ledger-db").prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
}

async function catchError(p: Promise<unknown>): Promise<LegoError> {
  try {
    await p;
  } catch (error) {
    if (isLegoError(error)) return error;
    throw error;
  }
  throw new Error("expected a LegoError");
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-db-"));
  const serviceDir = join(root, "services", "ledger");
  await mkdir(serviceDir, { recursive: true });
  target = {
    service: "ledger",
    env: "staging",
    wranglerEnv: "staging",
    serviceDir,
    configPath: join(serviceDir, "wrangler.jsonc"),
    binding: "DB",
    databaseName: "ledger-db",
    migrationsDir: join(serviceDir, "migrations"),
    migrationsTable: "d1_migrations",
  };
  fake = createSqliteD1(join(root, "d1"));
  fake.create("ledger-db");
  fake.register(target);
  ctx = {
    root,
    api: fake.api,
    wrangler: fake.wrangler,
    clock: createManualClock(Date.parse("2026-11-25T04:37:00Z")),
    runId: "run-1",
  };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("migrateService", () => {
  it("backs up, applies pending migrations through wrangler, and records their checksums", async () => {
    await migration("0001_init.sql", M1);
    await migration("0002_seed.sql", M2);
    const result = await migrateService([target], ctx);
    expect(result.outcome).toBe("applied");
    expect(result.databases[0]).toMatchObject({
      pending: ["0001_init.sql", "0002_seed.sql"],
      backup: "2026-11-25T04-37-00-000Z",
    });
    expect(fake.calls.filter((c) => c !== "query")).toEqual([
      "export ledger-db --env staging",
      "migrations apply ledger-db --env staging",
    ]);
    expect(rows("notes")).toEqual([
      { id: 1, body: "first" },
      { id: 2, body: "it's; second" },
    ]);
    const status = await readDatabaseStatus({ api: fake.api }, target);
    expect(status.pending).toEqual([]);
    expect(status.applied.map((a) => [a.name, a.checksum])).toEqual([
      ["0001_init.sql", "ok"],
      ["0002_seed.sql", "ok"],
    ]);
    const [backup] = await listBackups(root, { service: "ledger" });
    expect(backup).toMatchObject({ reason: "pre-migrate", migrations: [], rowCounts: {}, runId: "run-1" });
    const events = (await readAuditLog(root)).map((e) => e.action);
    expect(events).toEqual(["db.backup.created", "db.migrate.started", "db.migrate.completed"]);
    // Nothing pending: no backup, no wrangler.
    fake.calls.length = 0;
    expect((await migrateService([target], ctx)).outcome).toBe("up-to-date");
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
  });

  it("restores every table row by row when a migration fails half-way, and says so", async () => {
    await migration("0001_init.sql", M1);
    await migration("0002_seed.sql", M2);
    await migrateService([target], ctx);
    const before = {
      notes: rows("notes"),
      tags: rows("tags"),
      d1_migrations: rows("d1_migrations"),
      checks: rows(CHECKSUM_TABLE),
    };
    await migration("0003_bad.sql", M3_BAD);
    const error = await catchError(migrateService([target], ctx));
    expect(error.code).toBe("ERR_MIGRATION_FAILED");
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(
      /^Migration 0003_bad.sql failed on ledger-db \(ledger, staging\): .*no such table.*The data was restored from backup .*; the row counts of all 4 tables match the backup\.$/s,
    );
    expect(error.details).toMatchObject({ failedMigration: "0003_bad.sql", restored: true });
    expect({
      notes: rows("notes"),
      tags: rows("tags"),
      d1_migrations: rows("d1_migrations"),
      checks: rows(CHECKSUM_TABLE),
    }).toEqual(before);
    const tables = fake
      .db("ledger-db")
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    expect(tables.map((t) => t.name)).not.toContain("extra");
    const audit = await readAuditLog(root);
    expect(audit.map((e) => e.action).slice(-4)).toEqual([
      "db.migrate.started",
      "db.migrate.failed",
      "db.restore.started",
      "db.restore.verified",
    ]);
    expect(audit.at(-3)).toMatchObject({
      action: "db.migrate.failed",
      result: "failed",
      runId: "run-1",
      service: "ledger",
      environment: "staging",
      details: { failedMigration: "0003_bad.sql", database: "ledger-db" },
    });
    expect(audit.at(-1)).toMatchObject({
      result: "ok",
      details: { method: "file", rowCounts: { notes: 2, tags: 1, d1_migrations: 2 } },
    });
    expect((await readDatabaseStatus({ api: fake.api }, target)).pending.map((p) => p.name)).toEqual([
      "0003_bad.sql",
    ]);
  });

  it("stops with exit 4 on drift before changing anything, and --accept-drift records the new file", async () => {
    await migration("0001_init.sql", M1);
    await migrateService([target], ctx);
    await migration("0001_init.sql", `${M1}\n-- edited after it was applied`);
    await migration("0002_seed.sql", M2);
    fake.calls.length = 0;
    const error = await catchError(migrateService([target], ctx));
    expect(error).toMatchObject({ code: "ERR_MIGRATION_DRIFT", exitCode: 4 });
    expect(error.message).toMatch(
      /0001_init.sql changed after it was applied to ledger-db \(ledger, staging\)/,
    );
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
    const ok = await migrateService([target], ctx, { acceptDrift: true });
    expect(ok.databases[0]!.acceptedDrift).toMatchObject([{ name: "0001_init.sql", kind: "changed" }]);
    const status = await readDatabaseStatus({ api: fake.api }, target);
    expect(status.drift).toEqual([]);
    expect(status.pending).toEqual([]);
  });

  it("asks before touching production, needs --yes without a terminal, and stops on no", async () => {
    const prod = { ...target, env: "production", wranglerEnv: "production" };
    fake.register(prod);
    await migration("0001_init.sql", M1);
    const noTty = await catchError(migrateService([prod], ctx));
    expect(noTty).toMatchObject({ code: "ERR_PROMPT_UNAVAILABLE", exitCode: 2, hint: "Pass --yes." });
    const no = createScriptedPrompter([false]);
    expect(await catchError(migrateService([prod], { ...ctx, prompter: no }))).toMatchObject({
      code: "ERR_NOT_CONFIRMED",
    });
    expect(no.asked).toEqual(["Apply 1 migration to ledger-db of ledger in production?"]);
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
    expect((await migrateService([prod], { ...ctx, prompter: createScriptedPrompter([true]) })).outcome).toBe(
      "applied",
    );
  });

  it("plans without changing anything on a dry run", async () => {
    await migration("0001_init.sql", M1);
    const plan = await migrateService([target], ctx, { dryRun: true });
    expect(plan).toMatchObject({
      outcome: "planned",
      databases: [{ outcome: "planned", pending: ["0001_init.sql"] }],
    });
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
    expect(await listBackups(root)).toEqual([]);
  });

  it("creates a database that does not exist yet when the config names no id", async () => {
    const fresh = { ...target, databaseName: "fresh-db" };
    fake.register(fresh);
    await migration("0001_init.sql", M1);
    const result = await migrateService([fresh], ctx);
    expect(result.outcome).toBe("applied");
    expect(fake.calls[0]).toBe("create fresh-db");
  });

  it("wrangler failing after every migration applied is not a failure: d1_migrations is the record", async () => {
    await migration("0001_init.sql", M1);
    const wrangler = {
      ...fake.wrangler,
      d1MigrationsApply: async (o: Parameters<typeof fake.wrangler.d1MigrationsApply>[0]) => {
        await fake.wrangler.d1MigrationsApply(o);
        throw new LegoError({
          code: "ERR_WRANGLER_FAILED",
          message: "wrangler exited with code 1",
          exitCode: 1,
        });
      },
    };
    const result = await migrateService([target], { ...ctx, wrangler });
    expect(result.outcome).toBe("applied");
    // No restore ran: nothing was re-imported.
    expect(fake.calls.filter((c) => c.startsWith("execute "))).toEqual([]);
    expect(fake.calls.filter((c) => c.startsWith("migrations apply"))).toHaveLength(1);
  });

  it("a create whose answer was lost (a 503 after it happened) is read back, not repeated", async () => {
    const fresh = { ...target, databaseName: "lost-answer-db" };
    fake.register(fresh);
    await migration("0001_init.sql", M1);
    const api = {
      ...fake.api,
      createD1Database: async (name: string) => {
        await fake.api.createD1Database!(name);
        throw new LegoError({ code: "ERR_CF_API", message: "503", exitCode: 1, details: { status: 503 } });
      },
    };
    const result = await migrateService([fresh], { ...ctx, api });
    expect(result.outcome).toBe("applied");
    expect(fake.calls.filter((c) => c.startsWith("create "))).toEqual(["create lost-answer-db"]);
  });
});

describe("backups and restore", () => {
  it("restores a named backup, bringing back deleted rows, after a safety backup", async () => {
    await migration("0001_init.sql", M1);
    await migration("0002_seed.sql", M2);
    await migrateService([target], ctx);
    const backup = await createBackup(target, {
      ...ctx,
      clock: createManualClock(Date.parse("2026-11-25T05:00:00Z")),
    });
    expect(backup.id).toBe("2026-11-25T05-00-00-000Z");
    expect(backup.rowCounts).toEqual({ d1_migrations: 2, notes: 2, tags: 1, [CHECKSUM_TABLE]: 2 });
    expect(backup.migrations).toEqual(["0001_init.sql", "0002_seed.sql"]);
    fake.db("ledger-db").exec("DELETE FROM tags; DELETE FROM notes WHERE id = 2;");
    const found = await findBackup(root, { service: "ledger", env: "staging", from: backup.file });
    const result = await restoreBackup(target, found, {
      ...ctx,
      clock: createManualClock(Date.parse("2026-11-25T06:00:00Z")),
    });
    expect(result).toMatchObject({
      method: "file",
      backup: backup.id,
      safetyBackup: "2026-11-25T06-00-00-000Z",
    });
    expect(rows("notes")).toEqual([
      { id: 1, body: "first" },
      { id: 2, body: "it's; second" },
    ]);
    expect(rows("tags")).toEqual([{ note_id: 1, tag: "a" }]);
    const safety = await findBackup(root, {
      service: "ledger",
      env: "staging",
      from: "2026-11-25T06-00-00-000Z",
    });
    expect(safety).toMatchObject({ reason: "pre-restore", rowCounts: { notes: 1, tags: 0 } });
  });

  it("refuses a backup whose dump changed after it was taken", async () => {
    await migration("0001_init.sql", M1);
    await migrateService([target], ctx);
    const [b] = await listBackups(root);
    await writeFile(b!.path, `${await readFile(b!.path, "utf8")}\nDROP TABLE notes;`);
    expect(await catchError(restoreBackup(target, b!, ctx))).toMatchObject({ code: "ERR_BACKUP_CORRUPT" });
    expect(fake.calls.filter((c) => c.startsWith("execute"))).toEqual([]);
  });

  it("names the backups there are when --from matches none", async () => {
    await migration("0001_init.sql", M1);
    await migrateService([target], ctx);
    const error = await catchError(findBackup(root, { service: "ledger", env: "staging", from: "nope" }));
    expect(error).toMatchObject({ code: "ERR_BACKUP_NOT_FOUND", exitCode: 2 });
    expect(error.hint).toContain("2026-11-25T04-37-00-000Z");
    expect((await findBackup(root, { service: "ledger", env: "staging", from: "latest" })).id).toBe(
      "2026-11-25T04-37-00-000Z",
    );
  });

  it("keeps the newest N backups", async () => {
    for (const t of ["04:00", "05:00", "06:00"])
      await createBackup(target, { ...ctx, clock: createManualClock(Date.parse(`2026-11-25T${t}:00Z`)) });
    const pruned = await pruneBackups(ctx, { service: "ledger", env: "staging", keep: 2 });
    expect(pruned.map((b) => b.id)).toEqual(["2026-11-25T04-00-00-000Z"]);
    expect((await listBackups(root)).map((b) => b.id)).toEqual([
      "2026-11-25T06-00-00-000Z",
      "2026-11-25T05-00-00-000Z",
    ]);
    expect(await catchError(pruneBackups(ctx, { service: "ledger", env: "staging", keep: 0 }))).toMatchObject(
      { exitCode: 2 },
    );
  });

  it("a failed export is ERR_BACKUP_FAILED and the migration does not run", async () => {
    await migration("0001_init.sql", M1);
    fake.failNext("d1Export", "export exploded");
    expect(await catchError(migrateService([target], ctx))).toMatchObject({
      code: "ERR_BACKUP_FAILED",
      exitCode: 1,
    });
    expect(fake.calls.some((c) => c.startsWith("migrations apply"))).toBe(false);
  });
});
