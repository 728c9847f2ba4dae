// `lego db …` in-process: the commands that need no target (listing and pruning backups, usage
// errors). The end-to-end suite (test/e2e/db.test.ts) runs migrate/status/restore against the local cloud.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { oneJson, run } from "./helpers.ts";

let root: string;

async function backup(id: string, rows: number) {
  const dir = join(root, ".lego", "backups", "api", "staging");
  await mkdir(dir, { recursive: true });
  const sql = `PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE t (x);\n${"INSERT INTO t VALUES (1);\n".repeat(rows)}`;
  await writeFile(join(dir, `${id}.sql`), sql);
  const { createHash } = await import("node:crypto");
  await writeFile(
    join(dir, `${id}.json`),
    JSON.stringify({
      version: 1,
      id,
      service: "api",
      env: "staging",
      binding: "DB",
      databaseName: "api-db",
      databaseId: "00000000-0000-0000-0000-000000000001",
      file: `${id}.sql`,
      createdAt: `${id.slice(0, 10)}T${id.slice(11, 13)}:${id.slice(14, 16)}:00.000Z`,
      bytes: sql.length,
      sha256: createHash("sha256").update(sql).digest("hex"),
      rowCounts: { t: rows },
      migrations: [],
      reason: "manual",
    }),
  );
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lego-db-cli-"));
  const service = join(root, "services", "api");
  await mkdir(join(service, "src"), { recursive: true });
  await writeFile(
    join(service, "wrangler.jsonc"),
    JSON.stringify({
      name: "api",
      main: "src/index.js",
      compatibility_date: "2025-09-01",
      env: { staging: { d1_databases: [{ binding: "DB", database_name: "api-db" }] } },
    }),
  );
  await writeFile(
    join(service, "src", "index.js"),
    "export default { fetch() { return new Response('ok'); } };\n",
  );
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("lego db backups / prune", () => {
  it("lists backups newest first as one JSON document", async () => {
    await backup("2026-11-25T04-00-00-000Z", 2);
    await backup("2026-11-25T05-00-00-000Z", 3);
    const r = await run(["db", "backups", "--root", root, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = oneJson(r.stdout) as {
      ok: boolean;
      data: { backups: Array<{ id: string; rowCounts: object }> };
    };
    expect(doc.data.backups.map((b) => [b.id, b.rowCounts])).toEqual([
      ["2026-11-25T05-00-00-000Z", { t: 3 }],
      ["2026-11-25T04-00-00-000Z", { t: 2 }],
    ]);
    const human = await run(["db", "backups", "--service", "api", "--root", root]);
    expect(human.stdout).toMatch(
      /^api \(staging\) api-db {2}2026-11-25T05-00-00-000Z {2}manual {2}1 tables, 3 rows/m,
    );
  });

  it("prunes to the newest N, and refuses --keep 0 with exit 2", async () => {
    await backup("2026-11-25T04-00-00-000Z", 1);
    await backup("2026-11-25T05-00-00-000Z", 1);
    const bad = await run([
      "db",
      "prune",
      "api",
      "--env",
      "staging",
      "--keep",
      "0",
      "--root",
      root,
      "--json",
    ]);
    expect(bad.exitCode).toBe(2);
    const r = await run(["db", "prune", "api", "--env", "staging", "--keep", "1", "--root", root, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(oneJson(r.stdout)).toMatchObject({
      ok: true,
      data: { deleted: [{ id: "2026-11-25T04-00-00-000Z" }] },
    });
    expect((await readdir(join(root, ".lego", "backups", "api", "staging"))).sort()).toEqual([
      "2026-11-25T05-00-00-000Z.json",
      "2026-11-25T05-00-00-000Z.sql",
    ]);
  });

  it("needs a service or --all to migrate (exit 2), and the seed's lego-db words map onto it", async () => {
    // The seed's flag name works too: lego-db migrate my-domain --environment production.
    const r = await run(["db", "migrate", "--environment", "staging", "--root", root, "--json"]);
    expect(r.exitCode).toBe(2);
    expect(oneJson(r.stdout)).toMatchObject({ ok: false, error: { code: "ERR_SERVICE_REQUIRED" } });
    const help = await run(["db", "--help"]);
    expect(help.exitCode).toBe(0);
    for (const verb of ["status", "migrate", "sync", "backup", "backups", "restore", "prune"])
      expect(help.stdout + help.stderr).toContain(verb);
  });
});

describe("deploy integration", () => {
  it("@lego/database's hook fits @lego/deployment's migrate hook", async () => {
    const { createDeployMigrationHook } = await import("@lego/database");
    const { scanPortfolio } = await import("@lego/discovery");
    const portfolio = await scanPortfolio({ root, cache: false });
    const unreachable = async (): Promise<never> => {
      throw new Error("not called");
    };
    const hook: NonNullable<import("@lego/deployment").DeployHooks["migrate"]> = createDeployMigrationHook(
      portfolio,
      {
        root,
        api: { queryD1: unreachable, getD1Database: unreachable },
        wrangler: { d1MigrationsApply: unreachable, d1Export: unreachable, d1Execute: unreachable },
      },
    );
    // A service without a database in that environment: nothing to do, no call to the target.
    await writeFile(
      join(root, "services", "api", "wrangler.jsonc"),
      JSON.stringify({
        name: "api",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        env: { staging: {} },
      }),
    );
    const fresh = await scanPortfolio({ root, cache: false });
    const none = await createDeployMigrationHook(fresh, {
      root,
      api: { queryD1: unreachable, getD1Database: unreachable },
      wrangler: { d1MigrationsApply: unreachable, d1Export: unreachable, d1Execute: unreachable },
    })({ service: "api", environment: "staging" });
    expect(none).toEqual({ applied: [], backups: [] });
    expect(typeof hook).toBe("function");
  });
});
