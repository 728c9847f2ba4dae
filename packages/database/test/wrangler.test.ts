// The real wrangler 4.164 and the real @lego/cloudflare client and runner, against the D1 API on
// 127.0.0.1:0 (support/d1-api-server.ts): the whole migrate → fail → restore → verify loop, and a
// restore from a named backup. The same loop runs on the local cloud in e2e.test.ts.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner, type WranglerRunner } from "@lego/cloudflare";
import { isLegoError, type LegoError } from "@lego/core";
import type { Portfolio } from "@lego/discovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuditLog } from "../src/audit.ts";
import { createBackup, findBackup } from "../src/backup.ts";
import { fromCloudflare } from "../src/cloudflare-adapter.ts";
import type { DatabaseContext } from "../src/context.ts";
import { portfolioStatus, syncPortfolio } from "../src/portfolio.ts";
import { restoreBackup } from "../src/restore.ts";
import { d1TargetsOf } from "../src/targets.ts";
import { ACCOUNT, type D1ApiServer, startD1ApiServer, TOKEN } from "./support/d1-api-server.ts";
import { writePortfolio } from "./support/portfolio.ts";

let root: string;
let server: D1ApiServer;
let runner: WranglerRunner;
let portfolio: Portfolio;
let ctx: DatabaseContext;

const M1 =
  "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);\nCREATE TABLE tags (note_id INTEGER REFERENCES notes(id), tag TEXT);";
const M2 =
  "INSERT INTO notes (body) VALUES ('first'), ('it''s; second'), ('multi\nline');\nINSERT INTO tags VALUES (1, 'a'), (2, 'b');";
const M3_BAD =
  "INSERT INTO notes (body) VALUES ('third');\nCREATE TABLE extra (x);\nDELETE FROM tags;\nINSERT INTO missing_table VALUES (1);";

function snapshot(name: string) {
  const db = server.db(name);
  const tables = (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name",
      )
      .all() as Array<{ name: string }>
  ).map((t) => t.name);
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
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

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-db-wr-"));
  await mkdir(join(root, ".d1"));
  server = await startD1ApiServer(join(root, ".d1"));
  server.create("ledger-db-staging");
  server.create("ledger-db");
  portfolio = await writePortfolio(root, [
    {
      name: "ledger",
      databases: { staging: "ledger-db-staging", production: "ledger-db" },
      migrations: { "0001_init.sql": M1, "0002_seed.sql": M2 },
    },
  ]);
  const target = { apiBaseUrl: server.baseURL, token: TOKEN, accountId: ACCOUNT };
  runner = createWranglerRunner({
    cwd: root,
    target,
    baseEnv: { PATH: process.env.PATH, HOME: root },
    stateDir: join(root, ".wrangler-state"),
  });
  const client = createCloudflareClient({ token: TOKEN, baseURL: server.baseURL, accountId: ACCOUNT });
  ctx = { root, ...fromCloudflare({ client, wrangler: runner }), target: "test" };
});
afterAll(async () => {
  await runner?.dispose();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe("with the real wrangler", () => {
  it("applies two migrations, then restores every row when the third fails half-way", async () => {
    const first = await syncPortfolio(portfolio, "staging", ctx);
    expect(first.services[0]).toMatchObject({
      outcome: "applied",
      databases: [{ pending: ["0001_init.sql", "0002_seed.sql"] }],
    });
    expect(server.db("ledger-db-staging").prepare("SELECT body FROM notes ORDER BY id").all()).toEqual([
      { body: "first" },
      { body: "it's; second" },
      { body: "multi\nline" },
    ]);
    const before = snapshot("ledger-db-staging");
    expect(Object.keys(before)).toEqual(["d1_migrations", "lego_migration_checksums", "notes", "tags"]);

    await writeFile(join(root, "services", "ledger", "migrations", "0003_bad.sql"), M3_BAD);
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error.code).toBe("ERR_MIGRATION_FAILED");
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(
      /Migration 0003_bad\.sql failed on ledger-db-staging \(ledger, staging\): .*missing_table/s,
    );
    expect(error.message).toMatch(
      /The data was restored from backup .*; the row counts of all 4 tables match the backup\./,
    );
    expect(snapshot("ledger-db-staging")).toEqual(before);
    const actions = (await readAuditLog(root)).map((e) => e.action);
    expect(actions.slice(-4)).toEqual([
      "db.migrate.failed",
      "db.restore.started",
      "db.restore.verified",
      "db.sync.failed",
    ]);
  }, 120_000);

  it("lists pending migrations per environment", async () => {
    const status = await portfolioStatus(portfolio, ctx);
    expect(status.databases.map((d) => [d.env, d.applied.length, d.pending.map((p) => p.name)])).toEqual([
      ["staging", 2, ["0003_bad.sql"]],
      ["production", 0, ["0001_init.sql", "0002_seed.sql", "0003_bad.sql"]],
    ]);
  });

  it("restores a named backup, bringing back deleted rows", async () => {
    const [target] = d1TargetsOf(portfolio, portfolio.services[0]!, "staging");
    const backup = await createBackup(target!, ctx);
    const before = snapshot("ledger-db-staging");
    server.db("ledger-db-staging").exec("DELETE FROM tags; DELETE FROM notes WHERE id > 1;");
    const named = await findBackup(root, { service: "ledger", env: "staging", from: backup.id });
    const result = await restoreBackup(target!, named, ctx);
    expect(result).toMatchObject({ method: "file", backup: backup.id, rowCounts: { notes: 3, tags: 2 } });
    expect(snapshot("ledger-db-staging")).toEqual(before);
  }, 60_000);
});
