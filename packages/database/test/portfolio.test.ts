import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, isLegoError, type LegoError } from "@lego/core";
import type { Portfolio } from "@lego/discovery";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAuditLog } from "../src/audit.ts";
import type { DatabaseContext } from "../src/context.ts";
import { createDeployMigrationHook } from "../src/deploy-hook.ts";
import { DatabaseOrchestrator } from "../src/orchestrator.ts";
import { portfolioStatus, syncPortfolio } from "../src/portfolio.ts";
import { d1TargetsOf } from "../src/targets.ts";
import { writePortfolio } from "./support/portfolio.ts";
import { createSqliteD1, type SqliteD1 } from "./support/sqlite-d1.ts";

let root: string;
let portfolio: Portfolio;
let fake: SqliteD1;
let ctx: DatabaseContext;

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
  root = await mkdtemp(join(tmpdir(), "lego-db-pf-"));
  // api calls auth: auth comes first. web has no database.
  portfolio = await writePortfolio(root, [
    {
      name: "api",
      databases: { staging: "api-db-staging", production: "api-db" },
      calls: ["auth"],
      migrations: { "0001_init.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);" },
    },
    {
      name: "auth",
      databases: { staging: "auth-db-staging", production: "auth-db" },
      migrations: {
        "0001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);",
        "0002_seed.sql": "INSERT INTO users (email) VALUES ('a@example.com');",
      },
    },
    { name: "web", calls: ["api"] },
  ]);
  fake = createSqliteD1(join(root, ".d1"));
  for (const service of portfolio.services)
    for (const env of ["staging", "production"])
      for (const t of d1TargetsOf(portfolio, service, env)) fake.register(t);
  for (const name of ["api-db-staging", "api-db", "auth-db-staging", "auth-db"]) fake.create(name);
  ctx = {
    root,
    api: fake.api,
    wrangler: fake.wrangler,
    clock: createManualClock(Date.parse("2026-11-25T04:37:00Z")),
  };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("d1TargetsOf", () => {
  it("maps the discovery model to targets wrangler understands", () => {
    const api = portfolio.services.find((s) => s.name === "api")!;
    expect(d1TargetsOf(portfolio, api, "staging")).toEqual([
      {
        service: "api",
        env: "staging",
        wranglerEnv: "staging",
        serviceDir: join(root, "services", "api"),
        configPath: join(root, "services", "api", "wrangler.jsonc"),
        binding: "DB",
        databaseName: "api-db-staging",
        migrationsDir: join(root, "services", "api", "migrations"),
        migrationsTable: "d1_migrations",
      },
    ]);
    expect(() => d1TargetsOf(portfolio, api, "qa")).toThrow(/api has no environment "qa"/);
  });
});

describe("portfolioStatus", () => {
  it("lists pending migrations per service and environment, dependencies first", async () => {
    const status = await portfolioStatus(portfolio, ctx);
    expect(status.databases.map((d) => [d.service, d.env, d.pending.map((p) => p.name)])).toEqual([
      ["auth", "staging", ["0001_users.sql", "0002_seed.sql"]],
      ["auth", "production", ["0001_users.sql", "0002_seed.sql"]],
      ["api", "staging", ["0001_init.sql"]],
      ["api", "production", ["0001_init.sql"]],
    ]);
    expect(status.summary).toEqual({ databases: 4, pending: 6, drifted: 0, missing: 0 });
    const staging = await portfolioStatus(portfolio, ctx, { env: "staging" });
    expect(staging.databases.map((d) => d.service)).toEqual(["auth", "api"]);
  });
});

describe("syncPortfolio", () => {
  it("migrates every service in dependency order", async () => {
    const result = await syncPortfolio(portfolio, "staging", ctx);
    expect(result.outcome).toBe("applied");
    expect(result.services.map((s) => [s.service, s.outcome])).toEqual([
      ["auth", "applied"],
      ["api", "applied"],
    ]);
    expect(fake.calls.filter((c) => c.startsWith("migrations"))).toEqual([
      "migrations apply auth-db-staging --env staging",
      "migrations apply api-db-staging --env staging",
    ]);
    const after = await portfolioStatus(portfolio, ctx, { env: "staging" });
    expect(after.summary.pending).toBe(0);
  });

  it("stops at the first failure with that service restored, and names what did not start", async () => {
    await writeFile(
      join(root, "services", "auth", "migrations", "0003_bad.sql"),
      "INSERT INTO users (email) VALUES ('b');\nSELECT * FROM nope;",
    );
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error).toMatchObject({ code: "ERR_MIGRATION_FAILED", exitCode: 1 });
    expect(error.message).toMatch(
      /^Sync of staging stopped at auth: Migration 0003_bad.sql failed .* The data was restored from backup .* Not started: api\.$/s,
    );
    expect(error.details).toMatchObject({
      completed: [],
      notStarted: ["api"],
      failedMigration: "0003_bad.sql",
      restored: true,
    });
    expect(
      fake.db("auth-db-staging").prepare("SELECT name FROM sqlite_master WHERE name = 'users'").get(),
    ).toBeUndefined();
    expect(fake.calls.some((c) => c.includes("api-db-staging"))).toBe(false);
    expect((await readAuditLog(root)).map((e) => e.action)).toContain("db.sync.failed");
  });

  it("checks drift everywhere before changing anything", async () => {
    await syncPortfolio(portfolio, "staging", ctx);
    await writeFile(
      join(root, "services", "api", "migrations", "0001_init.sql"),
      "CREATE TABLE items (id INTEGER PRIMARY KEY);",
    );
    await writeFile(join(root, "services", "auth", "migrations", "0003_more.sql"), "CREATE TABLE more (x);");
    fake.calls.length = 0;
    const error = await catchError(syncPortfolio(portfolio, "staging", ctx));
    expect(error).toMatchObject({ code: "ERR_MIGRATION_DRIFT", exitCode: 4 });
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
  });

  it("needs --yes for production without a terminal, asked once for the whole portfolio", async () => {
    expect(await catchError(syncPortfolio(portfolio, "production", ctx))).toMatchObject({
      code: "ERR_PROMPT_UNAVAILABLE",
      exitCode: 2,
    });
    expect((await syncPortfolio(portfolio, "production", ctx, { yes: true })).outcome).toBe("applied");
  });
});

describe("deploy hook", () => {
  it("migrates before the deploy and can restore the pre-deploy backup (--restore-db)", async () => {
    const hook = createDeployMigrationHook(portfolio, ctx);
    const outcome = await hook({ service: "auth", environment: "staging" });
    expect(outcome.applied).toEqual(["0001_users.sql", "0002_seed.sql"]);
    expect(outcome.backups).toHaveLength(1);
    expect(fake.db("auth-db-staging").prepare("SELECT COUNT(*) AS n FROM users").get()).toEqual({ n: 1 });
    await outcome.restore!();
    expect(
      fake.db("auth-db-staging").prepare("SELECT name FROM sqlite_master WHERE name = 'users'").get(),
    ).toBeUndefined();
    const types = (await readAuditLog(root)).map((e) => e.action);
    expect(types).toContain("db.restore.verified");
    expect(await hook({ service: "web", environment: "staging" })).toEqual({ applied: [], backups: [] });
    expect((await hook({ service: "auth", environment: "staging" })).restore).toBeDefined();
    expect((await hook({ service: "auth", environment: "staging" })).applied).toEqual([]);
  });
});

describe("DatabaseOrchestrator (the seed's API)", () => {
  it("runs migrations and backups per environment, under the portfolio lock, with a run journal", async () => {
    const db = new DatabaseOrchestrator({
      projectRoot: root,
      dryRun: false,
      api: fake.api,
      wrangler: fake.wrangler,
      clock: ctx.clock,
      yes: true,
    });
    const result = await db.runMigrations("production");
    expect(result.services.map((s) => s.outcome)).toEqual(["applied", "applied"]);
    const backups = await db.createBackup("production");
    expect(backups.map((b) => [b.service, b.reason])).toEqual([
      ["auth", "manual"],
      ["api", "manual"],
    ]);
    expect((await db.listBackups({ service: "auth" })).length).toBe(2);
    const status = await db.status({ env: "production" });
    expect(status.summary.pending).toBe(0);
    fake.db("auth-db").exec("DELETE FROM users");
    const [restored] = await db.restore({ service: "auth", env: "production", from: backups[0]!.id });
    expect(restored).toMatchObject({ method: "file", rowCounts: { users: 1 } });
    expect(fake.db("auth-db").prepare("SELECT email FROM users").all()).toEqual([{ email: "a@example.com" }]);
    const audit = await readAuditLog(root);
    const runIds = new Set(audit.map((e) => e.runId));
    expect(runIds.size).toBe(3);
    await db.close();
  });

  it("plans only with dryRun", async () => {
    const db = new DatabaseOrchestrator({
      projectRoot: root,
      dryRun: true,
      api: fake.api,
      wrangler: fake.wrangler,
    });
    const plan = await db.runMigrations("staging", { service: "api" });
    expect(plan).toMatchObject({ outcome: "planned", services: [{ service: "api", outcome: "planned" }] });
    expect(fake.calls.filter((c) => c !== "query")).toEqual([]);
  });
});
