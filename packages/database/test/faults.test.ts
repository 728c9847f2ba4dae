// Issue 13's reproduction: a data-service with a new migration under faults on the local cloud's `/d1/`
// routes (429 with Retry-After and code 971, 5xx, dropped connections: 20% of D1 calls) must never lose
// a row. Each seeded run adds a migration and migrates through the real wrangler; afterwards, with the
// faults off, either every migration is applied and every earlier row is still there, or the database
// is exactly as before, row by row. Runs alternate between wrangler through @lego/cloudflare's relay
// (which retries wrangler's own calls) and wrangler straight to the API (so its failures happen and the
// failure paths — nothing changed, restore — run under faults too).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient, createWranglerRunner, type WranglerRunner } from "@lego/cloudflare";
import { isLegoError } from "@lego/core";
import type { Portfolio } from "@lego/discovery";
import { type FaultRule, type LocalCloud, startLocalCloud } from "@lego/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromCloudflare } from "../src/cloudflare-adapter.ts";
import type { DatabaseContext } from "../src/context.ts";
import { migrateService } from "../src/migrate.ts";
import { d1TargetsOf } from "../src/targets.ts";
import { writePortfolio } from "./support/portfolio.ts";

const RUNS = Number(process.env.LEGO_FAULT_RUNS ?? 4);
const FAULTS: FaultRule[] = [
  { route: "*/d1/*", kind: "429", probability: 0.07, retryAfter: 1 },
  { route: "*/d1/*", kind: "5xx", probability: 0.07 },
  { route: "*/d1/*", kind: "drop", probability: 0.07 },
];

let root: string;
let cloud: LocalCloud;
let runner: WranglerRunner;
let direct: WranglerRunner;
let portfolio: Portfolio;
let ctx: DatabaseContext;
let directCtx: DatabaseContext;

async function snapshot(): Promise<Record<string, unknown[]>> {
  const id = (await ctx.api.getD1Database("ledger-db-staging"))!.uuid;
  const [tables] = await ctx.api.queryD1(
    id,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND substr(name, 1, 4) <> '_cf_' ORDER BY name",
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables!.results as Array<{ name: string }>) {
    const [rows] = await ctx.api.queryD1(id, `SELECT * FROM "${name}" ORDER BY rowid`);
    out[name] = rows!.results;
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-db-faults-"));
  cloud = await startLocalCloud({ stateDir: join(root, ".cloud") });
  portfolio = await writePortfolio(root, [
    {
      name: "ledger",
      databases: { staging: "ledger-db-staging" },
      migrations: {
        "0001_init.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);",
        "0002_seed.sql": "INSERT INTO notes (body) VALUES ('a'), ('b'), ('c'), ('d'), ('e');",
      },
    },
  ]);
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
    retry: { baseDelayMs: 200 },
  });
  direct = createWranglerRunner({
    cwd: root,
    target,
    relay: false,
    baseEnv: { PATH: process.env.PATH, HOME: root },
    stateDir: join(root, ".wrangler-state"),
  });
  ctx = { root, ...fromCloudflare({ client, wrangler: runner }), target: "local" };
  directCtx = { root, ...fromCloudflare({ client, wrangler: direct }), target: "local" };
  await migrateService(d1TargetsOf(portfolio, portfolio.services[0]!, "staging"), ctx, { yes: true });
}, 120_000);
afterAll(async () => {
  await runner?.dispose();
  await direct?.dispose();
  await cloud?.close();
  await rm(root, { recursive: true, force: true });
});

describe("a migration under 20% faults on /d1/ routes", () => {
  it(`never loses a row (${RUNS} seeded runs)`, async () => {
    const outcomes: string[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const dir = join(root, "services", "ledger", "migrations");
      const name = `${String(run + 2).padStart(4, "0")}_run${run}.sql`;
      await writeFile(
        join(dir, name),
        `ALTER TABLE notes ADD COLUMN c${run} TEXT;\nINSERT INTO notes (body) VALUES ('from ${name}');`,
      );
      // Every third run, a second migration that fails after the first applied: the restore path.
      const bad = run % 3 === 0 ? `${String(run + 2).padStart(4, "0")}_run${run}_z_bad.sql` : undefined;
      if (bad)
        await writeFile(
          join(dir, bad),
          "INSERT INTO notes (body) VALUES ('x');\nINSERT INTO missing_table VALUES (1);",
        );
      const before = await snapshot();
      const applied = (before.d1_migrations as Array<{ name: string }>).map((m) => m.name);
      cloud.setFaults(FAULTS, 1000 + run);
      let outcome: string;
      let error: unknown;
      try {
        await migrateService(
          d1TargetsOf(portfolio, portfolio.services[0]!, "staging"),
          run % 2 === 1 ? ctx : directCtx,
          { yes: true },
        );
        outcome = "applied";
      } catch (e) {
        error = e;
        outcome = isLegoError(e) ? `${e.code}/${String(e.details?.state ?? "")}` : "thrown";
      } finally {
        cloud.setFaults([]);
      }
      outcomes.push(`${run % 2 === 1 ? "relay" : "direct"}: ${outcome}`);
      if (bad) {
        // Neither file may stay pending for the next runs; the data must be exactly as before.
        await rm(join(dir, bad));
        await rm(join(dir, name));
        expect(outcome).not.toBe("applied");
      }
      const after = await snapshot();
      const notesBefore = before.notes as Array<{ id: number; body: string }>;
      const notesAfter = after.notes as Array<{ id: number; body: string }>;
      // Never a row lost, whatever happened.
      for (const row of notesBefore)
        expect(notesAfter.find((r) => r.id === row.id)).toMatchObject({ id: row.id, body: row.body });
      const appliedAfter = (after.d1_migrations as Array<{ name: string }>).map((m) => m.name);
      if (outcome === "applied") {
        expect(appliedAfter).toContain(name);
        expect(notesAfter).toHaveLength(notesBefore.length + (appliedAfter.length - applied.length));
      } else {
        expect(isLegoError(error), String(error)).toBe(true);
        // A failure that says the data is as it was (restored or unchanged) is exactly that, row by row.
        if (["ERR_MIGRATION_FAILED", "ERR_MIGRATION_UNVERIFIED"].includes((error as { code: string }).code))
          expect(after).toEqual(before);
        else
          expect([
            "ERR_BACKUP_FAILED",
            "ERR_MIGRATION_STATE_UNKNOWN",
            "ERR_RESTORE_AFTER_FAILURE",
            "ERR_CF_UNREACHABLE",
            "ERR_CF_RATE_LIMITED",
            "ERR_CF_API",
          ]).toContain((error as { code: string }).code);
      }
    }
    console.log(`outcomes under /d1/ faults: ${outcomes.join(", ")}`);
    expect(outcomes).toHaveLength(RUNS);
  }, 600_000);
});
