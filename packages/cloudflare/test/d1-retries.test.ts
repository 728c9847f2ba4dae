// Lego's own D1 calls against the local cloud with its fault injection: a SELECT is retried through
// 5xx and dropped connections, a write only through 429 (refused before any effect), a Time Travel
// restore through anything (the same bookmark twice ends in the same state).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalCloud, startLocalCloud } from "@lego/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CloudflareClient, createCloudflareClient } from "../src/client.ts";
import { isRepeatableSql } from "../src/repeatable-sql.ts";

let root: string;
let cloud: LocalCloud;
let cf: CloudflareClient;
let db: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-cf-d1-"));
  cloud = await startLocalCloud({ stateDir: join(root, "cloud") });
  cf = createCloudflareClient({
    token: cloud.token,
    baseURL: cloud.apiBaseUrl,
    accountId: cloud.accountId,
    retry: { baseDelayMs: 20, maxAttempts: 6 },
  });
  db = (await cf.createD1Database("retries")).uuid;
  await cf.queryD1(
    db,
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a'), ('b')",
  );
}, 60_000);
afterAll(async () => {
  await cloud?.close();
  await rm(root, { recursive: true, force: true });
});

const queries = () => cloud.requests.filter((r) => r.path.endsWith("/query"));

describe("D1 calls under faults", () => {
  it("retries a SELECT through 5xx and dropped connections", async () => {
    const seen = queries().length;
    // Seed 7 hits the first two matching requests, then lets the third through.
    cloud.setFaults([{ route: "POST */query", kind: "5xx", probability: 0.5 }], 7);
    try {
      const [res] = await cf.queryD1(db, "SELECT v FROM t ORDER BY id");
      expect(res!.results).toEqual([{ v: "a" }, { v: "b" }]);
    } finally {
      cloud.setFaults([]);
    }
    expect(
      queries()
        .slice(seen)
        .map((r) => r.status),
    ).toEqual([503, 503, 200]);
    cloud.setFaults([{ route: "POST */query", kind: "drop", probability: 0.5 }], 7);
    try {
      await expect(cf.queryD1(db, "SELECT COUNT(*) AS n FROM t")).resolves.toMatchObject([
        { results: [{ n: 2 }] },
      ]);
    } finally {
      cloud.setFaults([]);
    }
  });

  it("does not send a write again after a 5xx (it may have applied), but does after a 429", async () => {
    cloud.setFaults([{ route: "POST */query", kind: "5xx" }]);
    const seen = queries().length;
    try {
      await expect(cf.queryD1(db, "INSERT INTO t (v) VALUES ('c')")).rejects.toMatchObject({
        code: "ERR_CF_API",
      });
    } finally {
      cloud.setFaults([]);
    }
    expect(queries().length - seen).toBe(1);
    cloud.setFaults([{ route: "POST */query", kind: "429", probability: 0.5, retryAfter: 0 }], 7);
    try {
      await cf.queryD1(db, "INSERT INTO t (v) VALUES ('c')");
    } finally {
      cloud.setFaults([]);
    }
    const [res] = await cf.queryD1(db, "SELECT v FROM t ORDER BY id");
    expect(res!.results).toEqual([{ v: "a" }, { v: "b" }, { v: "c" }]);
  });

  it("restores a Time Travel bookmark through 5xx faults", async () => {
    const bookmark = (await cf.getD1Bookmark(db))!;
    await cf.queryD1(db, "DELETE FROM t");
    cloud.setFaults([{ route: "POST */time_travel/restore", kind: "5xx", probability: 0.5 }], 7);
    try {
      const out = await cf.restoreD1Bookmark(db, bookmark);
      expect(out.previousBookmark).toMatch(/^[0-9a-f]{8}-/);
    } finally {
      cloud.setFaults([]);
    }
    const [res] = await cf.queryD1(db, "SELECT COUNT(*) AS n FROM t");
    expect(res!.results).toEqual([{ n: 3 }]);
  });
});

describe("isRepeatableSql", () => {
  it("accepts reads and create-if-absent, nothing else", () => {
    expect(isRepeatableSql("SELECT 1")).toBe(true);
    expect(isRepeatableSql("select * from t; PRAGMA table_info(t);")).toBe(true);
    expect(isRepeatableSql("-- note\nSELECT ';' AS \"x;y\" /* ; */")).toBe(true);
    expect(
      isRepeatableSql('CREATE TABLE IF NOT EXISTS "d1_migrations"(id INTEGER PRIMARY KEY AUTOINCREMENT)'),
    ).toBe(true);
    expect(isRepeatableSql("SELECT 1; INSERT INTO t VALUES (1)")).toBe(false);
    expect(isRepeatableSql("PRAGMA foreign_keys = off")).toBe(false);
    expect(isRepeatableSql("WITH x AS (SELECT 1) DELETE FROM t")).toBe(false);
    expect(isRepeatableSql("SELECT 'unterminated")).toBe(false);
    expect(isRepeatableSql("")).toBe(false);
  });
});
