// End to end on the local cloud (@lego/emulator): the real wrangler deploys a Worker bound to D1 and
// applies migrations; the Worker answers with the rows over HTTP; a migration that fails half-way leaves
// every table exactly as before (row by row), with the restore in the audit log; status lists pending
// migrations per environment; a restore from a named backup brings deleted rows back, and the Worker
// sees them.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner, type WranglerRunner } from "@lego/cloudflare";
import { isLegoError, type LegoError } from "@lego/core";
import type { Portfolio } from "@lego/discovery";
import { type LocalCloud, startLocalCloud } from "@lego/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuditLog } from "../src/audit.ts";
import { createBackup, findBackup } from "../src/backup.ts";
import { fromCloudflare } from "../src/cloudflare-adapter.ts";
import type { DatabaseContext } from "../src/context.ts";
import { createDeployMigrationHook } from "../src/deploy-hook.ts";
import { DatabaseOrchestrator } from "../src/orchestrator.ts";
import { portfolioStatus, syncPortfolio } from "../src/portfolio.ts";
import { readTableCounts, restoreBackup } from "../src/restore.ts";
import { d1TargetsOf } from "../src/targets.ts";
import { writePortfolio } from "./support/portfolio.ts";

const M1 =
  "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);\nCREATE TABLE tags (note_id INTEGER REFERENCES notes(id), tag TEXT);";
const M2 =
  "INSERT INTO notes (body) VALUES ('first'), ('it''s; second'), ('multi\nline');\nINSERT INTO tags VALUES (1, 'a'), (2, 'b');";
// Two statements succeed before the third fails.
const M3_BAD =
  "INSERT INTO notes (body) VALUES ('third');\nCREATE TABLE extra (x);\nDELETE FROM tags;\nINSERT INTO missing_table VALUES (1);";
const WORKER = `export default {
  async fetch(request, env) {
    const { results } = await env.DB.prepare("SELECT id, body FROM notes ORDER BY id").all();
    return Response.json(results);
  },
};
`;

let root: string;
let cloud: LocalCloud;
let runner: WranglerRunner;
let portfolio: Portfolio;
let ctx: DatabaseContext;

function get(hostname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: cloud.port, path: "/", headers: { host: hostname } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Every user table, every row, in rowid order, read through the API. */
async function snapshot(databaseName: string) {
  const found = await ctx.api.getD1Database(databaseName);
  const [tables] = await ctx.api.queryD1(
    found!.uuid,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND substr(name, 1, 4) <> '_cf_' ORDER BY name",
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables!.results as Array<{ name: string }>) {
    const [rows] = await ctx.api.queryD1(found!.uuid, `SELECT * FROM "${name}" ORDER BY rowid`);
    out[name] = rows!.results;
  }
  return out;
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
  root = await mkdtemp(join(tmpdir(), "lego-db-e2e-"));
  cloud = await startLocalCloud({ stateDir: join(root, ".cloud"), zones: ["example.com"] });
  portfolio = await writePortfolio(root, [
    {
      name: "ledger",
      databases: { staging: "ledger-db-staging", production: "ledger-db" },
      migrations: { "0001_init.sql": M1, "0002_seed.sql": M2 },
    },
  ]);
  // The Worker reads its notes; staging answers at staging-ledger.example.com.
  const dir = join(root, "services", "ledger");
  await writeFile(join(dir, "src", "index.js"), WORKER);
  const config = JSON.parse(await readFile(join(dir, "wrangler.jsonc"), "utf8"));
  config.env.staging.routes = [{ pattern: "staging-ledger.example.com", custom_domain: true }];
  await writeFile(join(dir, "wrangler.jsonc"), JSON.stringify(config, null, 2));
  const target = { apiBaseUrl: cloud.apiBaseUrl, token: cloud.token, accountId: cloud.accountId };
  runner = createWranglerRunner({
    cwd: root,
    target,
    baseEnv: { PATH: process.env.PATH, HOME: root },
    stateDir: join(root, ".wrangler-state"),
  });
  const client = createCloudflareClient({
    token: cloud.token,
    baseURL: cloud.apiBaseUrl,
    accountId: cloud.accountId,
  });
  ctx = { root, ...fromCloudflare({ client, wrangler: runner }), target: "local" };
}, 60_000);
afterAll(async () => {
  await runner?.dispose();
  await cloud?.close();
  await rm(root, { recursive: true, force: true });
});

describe("on the local cloud, with the real wrangler", () => {
  it("migrates before the Worker deploy, and the Worker sees the migrations' rows", async () => {
    // The deploy pipeline's step: the database does not exist yet; it is created, then migrated.
    const migrate = createDeployMigrationHook(portfolio, ctx);
    const outcome = await migrate({ service: "ledger", environment: "staging" });
    expect(outcome.applied).toEqual(["0001_init.sql", "0002_seed.sql"]);
    await runner.deploy({ cwd: join(root, "services", "ledger"), env: "staging" });
    const res = await get("staging-ledger.example.com");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual([
      { id: 1, body: "first" },
      { id: 2, body: "it's; second" },
      { id: 3, body: "multi\nline" },
    ]);
  }, 120_000);

  it("a third migration failing half-way changed nothing (one atomic query): exit 1, no restore, audited", async () => {
    const before = await snapshot("ledger-db-staging");
    expect(Object.keys(before)).toEqual(["d1_migrations", "lego_migration_checksums", "notes", "tags"]);
    await writeFile(join(root, "services", "ledger", "migrations", "0003_bad.sql"), M3_BAD);
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error).toMatchObject({ code: "ERR_MIGRATION_FAILED", exitCode: 1 });
    expect(error.message).toMatch(
      /Migration 0003_bad\.sql failed on ledger-db-staging \(ledger, staging\): .*missing_table/s,
    );
    // The local cloud runs the file and its d1_migrations insert as one batch, like D1: d1_migrations
    // and the compare both say nothing changed, so nothing is restored.
    expect(error.message).toMatch(/Nothing of it was applied: .*no restore needed/);
    expect(error.details).toMatchObject({ restored: false, state: "unchanged" });
    expect(await snapshot("ledger-db-staging")).toEqual(before);
    const audit = await readAuditLog(root);
    const failed = audit.find((e) => e.action === "db.migrate.failed");
    expect(failed).toMatchObject({
      service: "ledger",
      environment: "staging",
      target: "local",
      details: { failedMigration: "0003_bad.sql", state: "unchanged" },
    });
    expect(audit.filter((e) => e.runId === failed!.runId).map((e) => e.action)).not.toContain(
      "db.restore.started",
    );
    // The Worker still answers with the same rows.
    expect(JSON.parse((await get("staging-ledger.example.com")).body)).toHaveLength(3);
  }, 120_000);

  it("lists pending migrations per environment", async () => {
    const status = await portfolioStatus(portfolio, ctx);
    expect(status.databases.map((d) => [d.env, d.exists, d.pending.map((p) => p.name)])).toEqual([
      ["staging", true, ["0003_bad.sql"]],
      ["production", false, ["0001_init.sql", "0002_seed.sql", "0003_bad.sql"]],
    ]);
  }, 60_000);

  it("a restore from a named backup brings back deleted rows", async () => {
    const [target] = d1TargetsOf(portfolio, portfolio.services[0]!, "staging");
    const backup = await createBackup(target!, ctx);
    // The local cloud has Time Travel: the manifest on disk records the bookmark taken before the export.
    expect(backup.bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    expect(JSON.parse(await readFile(backup.manifestPath, "utf8")).bookmark).toBe(backup.bookmark);
    const before = await snapshot("ledger-db-staging");
    const id = (await ctx.api.getD1Database("ledger-db-staging"))!.uuid;
    await ctx.api.queryD1(id, "DELETE FROM tags; DELETE FROM notes WHERE id > 1");
    expect(JSON.parse((await get("staging-ledger.example.com")).body)).toHaveLength(1);
    const named = await findBackup(root, { service: "ledger", env: "staging", from: backup.file });
    const result = await restoreBackup(target!, named, ctx);
    // Time Travel first: the bookmark goes back in one atomic step, no table is dropped beforehand.
    expect(result).toMatchObject({ method: "bookmark", backup: backup.id, rowCounts: { notes: 3, tags: 2 } });
    expect(await snapshot("ledger-db-staging")).toEqual(before);
    expect(JSON.parse((await get("staging-ledger.example.com")).body)).toHaveLength(3);
  }, 120_000);

  it("the seed's snippet works: DatabaseOrchestrator builds its own ports from the environment", async () => {
    const dbOrchestrator = new DatabaseOrchestrator({
      projectRoot: root,
      dryRun: false,
      environment: {
        PATH: process.env.PATH,
        HOME: root,
        CLOUDFLARE_API_TOKEN: cloud.token,
        CLOUDFLARE_API_BASE_URL: cloud.apiBaseUrl,
        CLOUDFLARE_ACCOUNT_ID: cloud.accountId,
      },
    });
    try {
      const plan = await dbOrchestrator.status({ env: "staging" });
      expect(plan.databases[0]!.pending.map((p) => p.name)).toEqual(["0003_bad.sql"]);
      const [backup] = await dbOrchestrator.createBackup("staging");
      expect(backup).toMatchObject({
        service: "ledger",
        reason: "manual",
        target: "cloudflare",
        rowCounts: { notes: 3 },
      });
      // Without a terminal, production needs yes: true.
      await expect(dbOrchestrator.runMigrations("production")).rejects.toMatchObject({
        code: "ERR_PROMPT_UNAVAILABLE",
      });
    } finally {
      await dbOrchestrator.close();
    }
  }, 120_000);

  it("when a later migration fails after an earlier one of the same run applied, both are undone", async () => {
    // The local cloud runs a migration file as one batch (atomic, like D1), so it is the migrations
    // applied earlier in the same run that the restore has to take back.
    const dir = join(root, "services", "ledger", "migrations");
    await writeFile(
      join(dir, "0003_bad.sql"),
      "INSERT INTO notes (body) VALUES ('from 0003');\nCREATE TABLE added (x);",
    );
    await writeFile(
      join(dir, "0004_worse.sql"),
      "INSERT INTO notes (body) VALUES ('from 0004');\nINSERT INTO missing_table VALUES (1);",
    );
    const before = await snapshot("ledger-db-staging");
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error).toMatchObject({
      code: "ERR_MIGRATION_FAILED",
      details: { failedMigration: "0004_worse.sql", appliedBeforeFailure: ["0003_bad.sql"], restored: true },
    });
    expect(await snapshot("ledger-db-staging")).toEqual(before);
  }, 120_000);

  it("the restore puts the backup's Time Travel bookmark back in one step, retrying faults on the restore endpoint", async () => {
    // 0003 applies, 0004 fails; the restore is a Time Travel restore (atomic: nothing is dropped first),
    // and its endpoint answers 500 half the time: the client retries it (same bookmark, same end state).
    const before = await snapshot("ledger-db-staging");
    const seen = cloud.requests.length;
    cloud.setFaults([{ route: "POST */time_travel/restore", kind: "5xx", status: 500, probability: 0.5 }], 7);
    let error: LegoError;
    try {
      error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    } finally {
      cloud.setFaults([]);
    }
    expect(error).toMatchObject({
      code: "ERR_MIGRATION_FAILED",
      details: { failedMigration: "0004_worse.sql", restored: true },
    });
    expect(error.message).toMatch(/The data was restored from backup \S+ \(Time Travel bookmark\)/);
    const run = cloud.requests.slice(seen);
    expect(run.some((r) => r.path.includes("/time_travel/restore") && r.status === 500)).toBe(true);
    expect(run.some((r) => r.path.includes("/time_travel/restore") && r.status === 200)).toBe(true);
    expect(run.some((r) => r.path.endsWith("/import"))).toBe(false);
    expect(await snapshot("ledger-db-staging")).toEqual(before);
    const backup = await findBackup(root, {
      service: "ledger",
      env: "staging",
      from: String(error.details?.backup),
    });
    expect(backup).toMatchObject({ reason: "pre-migrate", bookmark: expect.stringMatching(/^[0-9a-f]{8}-/) });
    const audit = await readAuditLog(root);
    expect(
      audit.find((e) => e.action === "db.restore.verified" && e.runId === audit.at(-1)?.runId),
    ).toMatchObject({
      details: { method: "bookmark" },
    });
  }, 180_000);

  it("a failed migration that changed nothing is not restored", async () => {
    // 0003 and 0004 both fail on their first statement: d1_migrations, the schema and the counts are as
    // before, so there is nothing to restore (and no Time Travel restore to lose concurrent writes).
    const dir = join(root, "services", "ledger", "migrations");
    await writeFile(join(dir, "0003_bad.sql"), "INSERT INTO missing_table VALUES (1);");
    await writeFile(join(dir, "0004_worse.sql"), "SELECT 1;");
    const before = await snapshot("ledger-db-staging");
    const seen = cloud.requests.length;
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error).toMatchObject({
      code: "ERR_MIGRATION_FAILED",
      details: { failedMigration: "0003_bad.sql", restored: false, state: "unchanged" },
    });
    expect(error.message).toMatch(/no restore needed/);
    expect(cloud.requests.slice(seen).some((r) => r.path.includes("/time_travel/restore"))).toBe(false);
    expect(await snapshot("ledger-db-staging")).toEqual(before);
  }, 120_000);

  it("counts the rows of more tables than D1 takes in one compound SELECT (5)", async () => {
    const id = (await ctx.api.getD1Database("ledger-db-staging"))!.uuid;
    const names = Array.from({ length: 7 }, (_, i) => `wide_${i}`);
    await ctx.api.queryD1(
      id,
      names.map((n, i) => `CREATE TABLE IF NOT EXISTS ${n} (x); INSERT INTO ${n} VALUES (${i})`).join("; "),
    );
    const counts = await readTableCounts(ctx as never, id);
    for (const n of names) expect(counts[n], n).toBe(1);
    await ctx.api.queryD1(id, names.map((n) => `DROP TABLE ${n}`).join("; "));
  });
});
