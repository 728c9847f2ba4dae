// Pure parts: SQL splitting, host routing, version picking, pagination, the fault PRNG.
import { describe, expect, it } from "vitest";
import { FaultInjector, paginate, resolveHost, routeMatcher, splitSqlStatements } from "../src/index.ts";
import { parseStructuredDictionary, pickVersion, versionOverrideFor } from "../src/runtime/plan.ts";
import type { CloudState } from "../src/state/types.ts";

describe("splitSqlStatements", () => {
  it("splits on top-level semicolons only (comments stay with the statement they precede)", () => {
    const sql = `-- a comment; with a semicolon
CREATE TABLE t (a TEXT, "b;c" TEXT, [d;e] TEXT, \`f;g\` TEXT);
/* block; comment */ INSERT INTO t VALUES ('x;y', 'it''s; fine', 'z', 'w');
CREATE TRIGGER tr AFTER INSERT ON t BEGIN
  UPDATE t SET a = CASE WHEN a = 'q' THEN 'r;' ELSE a END;
  DELETE FROM t WHERE a = ';';
END;
CREATE TEMP TRIGGER tr2 AFTER DELETE ON t BEGIN SELECT 1; END;
SELECT 1`;
    expect(splitSqlStatements(sql)).toEqual([
      `-- a comment; with a semicolon\nCREATE TABLE t (a TEXT, "b;c" TEXT, [d;e] TEXT, \`f;g\` TEXT)`,
      `/* block; comment */ INSERT INTO t VALUES ('x;y', 'it''s; fine', 'z', 'w')`,
      `CREATE TRIGGER tr AFTER INSERT ON t BEGIN
  UPDATE t SET a = CASE WHEN a = 'q' THEN 'r;' ELSE a END;
  DELETE FROM t WHERE a = ';';
END`,
      "CREATE TEMP TRIGGER tr2 AFTER DELETE ON t BEGIN SELECT 1; END",
      "SELECT 1",
    ]);
  });

  it("drops empty and comment-only statements", () => {
    expect(splitSqlStatements(" ;; -- only a comment\n ; /* x */ ")).toEqual([]);
    expect(splitSqlStatements("select 1;\n-- trailing comment")).toEqual(["select 1"]);
  });

  it("keeps BEGIN TRANSACTION outside triggers as its own statement", () => {
    expect(splitSqlStatements("BEGIN TRANSACTION; SELECT 1; COMMIT;")).toEqual([
      "BEGIN TRANSACTION",
      "SELECT 1",
      "COMMIT",
    ]);
  });
});

const state = (over: Partial<CloudState>): CloudState => ({
  schema: 1,
  account: { id: "a", name: "a" },
  email: "e",
  accountSubdomain: "lego-local",
  zones: [],
  scripts: {},
  routes: [],
  domains: [],
  d1: [],
  secrets: {},
  ...over,
});
const script = (name: string, enabled = false) => ({
  name,
  tag: "t",
  created_on: "",
  modified_on: "",
  versions: [],
  deployments: [],
  settings: { logpush: false, observability: {}, tags: [], tail_consumers: [] },
  subdomain: { enabled, previews_enabled: false },
});

describe("host routing", () => {
  const s = state({
    scripts: { api: script("api"), web: script("web"), dev: script("dev", true), off: script("off") },
    domains: [
      {
        id: "1",
        hostname: "api.example.com",
        service: "api",
        environment: "production",
        zone_id: "z",
        zone_name: "example.com",
        created_on: "",
      },
    ],
    routes: [
      { id: "2", pattern: "*.example.com/*", script: "web", zone_id: "z", zone_name: "example.com" },
      { id: "3", pattern: "example.com/api/*", script: "api", zone_id: "z", zone_name: "example.com" },
    ],
  });

  it("sends loopback names to the API", () => {
    expect(resolveHost(s, "127.0.0.1:8787", "/client/v4/user")).toEqual({ kind: "api" });
    expect(resolveHost(s, "localhost:1", "/")).toEqual({ kind: "api" });
  });

  it("prefers custom domains, then the most specific route, then workers.dev", () => {
    expect(resolveHost(s, "api.example.com", "/")).toMatchObject({
      script: "api",
      hostname: "api.example.com",
    });
    expect(resolveHost(s, "api.example.com.localhost:9", "/")).toMatchObject({
      script: "api",
      hostname: "api.example.com",
    });
    expect(resolveHost(s, "www.example.com", "/x")).toMatchObject({ script: "web" });
    expect(resolveHost(s, "example.com", "/api/v1?q=1")).toMatchObject({ script: "api" });
    expect(resolveHost(s, "example.com", "/other")).toMatchObject({ kind: "none" });
    expect(resolveHost(s, "dev.lego-local.workers.dev", "/")).toMatchObject({ script: "dev" });
    expect(resolveHost(s, "off.lego-local.workers.dev", "/")).toMatchObject({ kind: "none" });
  });

  it("compiles route patterns", () => {
    expect(routeMatcher("*example.com/*").test("example.com/a")).toBe(true);
    expect(routeMatcher("*example.com/*").test("x.example.com/a")).toBe(true);
    expect(routeMatcher("example.com/a*").test("example.com/b")).toBe(false);
    expect(routeMatcher("https://example.com/a/*").test("example.com/a/b")).toBe(true);
  });
});

describe("version picking", () => {
  const v = (id: string, percentage: number) => ({
    script: "s",
    workerName: id,
    percentage,
    version: { id } as never,
  });
  it("follows percentages and honours the override header", () => {
    const versions = [v("a", 70), v("b", 30)];
    expect(pickVersion(versions, 0)?.workerName).toBe("a");
    expect(pickVersion(versions, 69.9)?.workerName).toBe("a");
    expect(pickVersion(versions, 70)?.workerName).toBe("b");
    expect(pickVersion(versions, 10, "b")?.workerName).toBe("b");
    expect(versionOverrideFor('other="x", s="b"', "s")).toBe("b");
    expect(versionOverrideFor(undefined, "s")).toBeUndefined();
  });

  it("gives a 0% version no share, but lets an override reach it", () => {
    const versions = [v("old", 100), v("new", 0)];
    for (const roll of [0, 50, 99.99]) expect(pickVersion(versions, roll)?.workerName).toBe("old");
    expect(pickVersion(versions, 50, "new")?.workerName).toBe("new");
    expect(pickVersion(versions, 50, "elsewhere")?.workerName).toBe("old");
  });

  it("reads the override header as an RFC 8941 dictionary, as Cloudflare does", () => {
    const id = "dc8dcd28-271b-4367-9840-6c244f84cb40";
    expect(versionOverrideFor(`my-worker="${id}"`, "my-worker")).toBe(id);
    expect(versionOverrideFor(`a="1";p=?1, my-worker="${id}";q=2.5,b=(1 2)`, "my-worker")).toBe(id);
    expect(versionOverrideFor(`my-worker="x",\tmy-worker="${id}"`, "my-worker")).toBe(id);
    expect(versionOverrideFor(`my-worker="a\\"b"`, "my-worker")).toBe('a"b');
    // Not a String: not applied.
    expect(versionOverrideFor(`my-worker=${"abc"}`, "my-worker")).toBeUndefined();
    expect(versionOverrideFor("my-worker", "my-worker")).toBeUndefined();
    expect(versionOverrideFor("my-worker=1", "my-worker")).toBeUndefined();
    // Not a valid dictionary: the whole header is ignored.
    for (const bad of [
      `my-worker="${id}",`,
      `My-Worker="${id}"`,
      `my-worker="${id}" x`,
      `my-worker="${id}`,
      ",",
    ])
      expect(versionOverrideFor(bad, "my-worker"), bad).toBeUndefined();
    expect(parseStructuredDictionary("")).toEqual(new Map());
  });
});

describe("paginate", () => {
  it("slices by page and per_page and ends with an empty page", () => {
    const items = [1, 2, 3, 4, 5];
    const page = (q: string, d = 2) => paginate(items, new URLSearchParams(q), d);
    expect(page("page=1&per_page=2").items).toEqual([1, 2]);
    expect(page("page=3&per_page=2")).toEqual({
      items: [5],
      info: { page: 3, per_page: 2, count: 1, total_count: 5, total_pages: 3 },
    });
    expect(page("page=4&per_page=2").items).toEqual([]);
    expect(page("", Number.POSITIVE_INFINITY).items).toEqual(items);
    expect(page("page=2", Number.POSITIVE_INFINITY).items).toEqual([]);
  });
});

describe("FaultInjector", () => {
  it("matches globs with or without a method, and is deterministic per seed", () => {
    const f = new FaultInjector([{ route: "PUT */secrets", kind: "429", retryAfter: 3 }]);
    expect(f.decide("PUT", "/accounts/x/workers/scripts/y/secrets")).toEqual({
      delayMs: 0,
      action: { kind: "429", retryAfter: 3 },
    });
    expect(f.decide("GET", "/accounts/x/workers/scripts/y/secrets")).toBeUndefined();
    const seq = (seed: number) => {
      const g = new FaultInjector([{ route: "*", kind: "drop", probability: 0.3 }], seed);
      return Array.from({ length: 20 }, () => (g.decide("GET", "/user") ? 1 : 0));
    };
    expect(seq(7)).toEqual(seq(7));
    expect(seq(7)).not.toEqual(seq(8));
    expect(new FaultInjector().decide("GET", "/user")).toBeUndefined();
  });

  it("spends a rule with `times` after that many hits (set() starts the count again)", () => {
    const f = new FaultInjector([{ route: "POST *deployments", kind: "lost", times: 1 }]);
    expect(f.decide("POST", "/accounts/a/workers/scripts/w/deployments")?.action).toEqual({ kind: "lost" });
    expect(f.decide("POST", "/accounts/a/workers/scripts/w/deployments")).toBeUndefined();
    f.set([{ route: "POST *deployments", kind: "5xx", times: 2 }]);
    expect(f.decide("POST", "/accounts/a/workers/scripts/w/deployments")?.action?.kind).toBe("5xx");
    expect(f.decide("POST", "/accounts/a/workers/scripts/w/deployments")?.action?.kind).toBe("5xx");
    expect(f.decide("POST", "/accounts/a/workers/scripts/w/deployments")).toBeUndefined();
  });
});

describe("cron expressions", () => {
  it("match minutes, ranges, steps, names, and day-of-month OR weekday as cron(8) does", async () => {
    const { cronMatches, parseCron } = await import("../src/runtime/cron.ts");
    const at = (iso: string) => new Date(iso);
    expect(cronMatches(parseCron("* * * * *"), at("2026-12-06T03:07:00Z"))).toBe(true);
    expect(cronMatches(parseCron("*/15 * * * *"), at("2026-12-06T03:30:00Z"))).toBe(true);
    expect(cronMatches(parseCron("*/15 * * * *"), at("2026-12-06T03:31:00Z"))).toBe(false);
    expect(cronMatches(parseCron("0 9-17/4 * * MON-FRI"), at("2026-12-07T13:00:00Z"))).toBe(true); // Monday
    expect(cronMatches(parseCron("0 9-17/4 * * MON-FRI"), at("2026-12-06T13:00:00Z"))).toBe(false); // Sunday
    expect(cronMatches(parseCron("0 0 * * 7"), at("2026-12-06T00:00:00Z"))).toBe(true); // 7 is Sunday
    expect(cronMatches(parseCron("0 0 1 JAN,JUL *"), at("2026-07-01T00:00:00Z"))).toBe(true);
    expect(cronMatches(parseCron("0 0 13 * FRI"), at("2026-12-11T00:00:00Z"))).toBe(true); // a Friday, not the 13th
    expect(() => parseCron("61 * * * *")).toThrow(/out of range/);
    expect(() => parseCron("* * *")).toThrow(/5 fields/);
  });
});

describe("Durable Object migrations", () => {
  it("create, rename (keeping storage), delete, and refuse a stale old_tag or a step that does not apply", async () => {
    const { applyMigrations } = await import("../src/api/workers/durable-objects.ts");
    const script = (durable_objects?: Record<string, never>, migration_tag?: string) =>
      ({
        name: "svc",
        versions: durable_objects ? [{ durable_objects, migration_tag }] : [],
      }) as never;
    const first = applyMigrations(script(), {
      new_tag: "v1",
      steps: [{ new_classes: ["Legacy"], new_sqlite_classes: ["Room"] }],
    });
    expect(first.tag).toBe("v1");
    expect(first.classes).toMatchObject({
      Legacy: { storage: "legacy-kv", key: "svc-Legacy" },
      Room: { storage: "sqlite", key: "svc-Room" },
    });
    const second = applyMigrations(script(first.classes as never, "v1"), {
      old_tag: "v1",
      new_tag: "v2",
      steps: [{ renamed_classes: [{ from: "Room", to: "Chat" }], deleted_classes: ["Legacy"] }],
    });
    expect(Object.keys(second.classes)).toEqual(["Chat"]);
    expect(second.classes.Chat?.key).toBe("svc-Room");
    expect(second.tag).toBe("v2");
    // No migrations: the newest version's classes and tag carry over.
    expect(applyMigrations(script(second.classes as never, "v2"), undefined)).toEqual(second);
    expect(() =>
      applyMigrations(script(second.classes as never, "v2"), { old_tag: "v1", new_tag: "v3" }),
    ).toThrow(/precondition/);
    expect(() =>
      applyMigrations(script(second.classes as never, "v2"), { new_sqlite_classes: ["Chat"] }),
    ).toThrow(/already exists/);
    expect(() =>
      applyMigrations(script(second.classes as never, "v2"), { deleted_classes: ["Nope"] }),
    ).toThrow(/no such class/);
  });
});
