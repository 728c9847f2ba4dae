// The deploy's database policy, end to end on the local cloud: a Worker that fails after its migrations
// applied is rolled back and, by default, the migrated database is kept; with --restore-db the database
// goes back to its pre-deploy backup too.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneJson } from "../helpers.ts";
import { assertBuilt, binPath, d1Query, runBuilt, tempHome } from "./built.ts";

const WRANGLER = JSON.stringify({
  name: "ledger",
  main: "src/index.js",
  compatibility_date: "2025-09-01",
  env: {
    staging: {
      routes: [{ pattern: "staging-ledger.example.com", custom_domain: true }],
      d1_databases: [{ binding: "DB", database_name: "ledger-db-staging" }],
    },
  },
});

const WORKER = (healthStatus: number) => `
export default {
  async fetch(request, env) {
    const { n } = await env.DB.prepare("SELECT COUNT(*) AS n FROM notes").first();
    if (new URL(request.url).pathname === "/health") return Response.json({ ok: ${healthStatus} === 200, notes: n }, { status: ${healthStatus} });
    return new Response("notes: " + n + "\\n");
  },
};
`;

const DOMAINS = `export const domains = {
  ledger: { name: "ledger", domains: { staging: "staging-ledger.example.com" }, features: {} },
};
`;

describe("lego deploy: the database after a failed Worker (--restore-db)", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let root: string;
  let dir: string;
  let env: Record<string, string>;
  let firstVersion: string;
  const lego = (args: string[]) => runBuilt([...args, "--root", root], { env, timeout: 120_000 });

  async function tables(): Promise<string[]> {
    const server = JSON.parse(await readFile(join(home.legoHome, "local", "server.json"), "utf8"));
    const rows = await d1Query<{ name: string }>(
      server,
      "ledger-db-staging",
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('notes', 'tags', 'labels') ORDER BY name",
    );
    return rows.map((r) => r.name);
  }

  /** The failed run's service report, from the run id the --json error names. */
  async function reportOf(stdout: string) {
    const { error } = oneJson(stdout);
    expect(error.code).toBe("ERR_DEPLOY_FAILED");
    const report = JSON.parse(
      await readFile(join(root, ".lego", "runs", error.details.runId, "report.json"), "utf8"),
    );
    return report.services[0];
  }

  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
    root = join(home.dir, "portfolio");
    dir = join(root, "services", "ledger");
    env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    await mkdir(join(dir, "src", "config"), { recursive: true });
    await mkdir(join(dir, "migrations"), { recursive: true });
    await writeFile(join(dir, "wrangler.jsonc"), WRANGLER);
    await writeFile(join(dir, "src", "config", "domains.js"), DOMAINS);
    await writeFile(join(dir, "src", "index.js"), WORKER(200));
    await writeFile(
      join(dir, "migrations", "0001_notes.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
    );
    const up = await runBuilt(["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
      env,
      timeout: 60_000,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    const first = await lego(["deploy", "ledger", "--env", "staging", "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    firstVersion = oneJson(first.stdout).data.services[0].versionAfter;
  }, 150_000);

  afterAll(async () => {
    await runBuilt(["local", "down"], { env });
    await home?.dispose();
  });

  it("keeps the migrated database by default, and restores it with --restore-db", async () => {
    expect(await tables()).toEqual(["notes"]);
    await writeFile(join(dir, "src", "index.js"), WORKER(500));

    // Default policy: the Worker is rolled back, the migration it brought stays.
    await writeFile(join(dir, "migrations", "0002_tags.sql"), "CREATE TABLE tags (id INTEGER PRIMARY KEY);");
    const kept = await lego(["deploy", "ledger", "--env", "staging", "--json", "--live-timeout", "3"]);
    expect(kept.exitCode).toBe(1);
    const keptService = await reportOf(kept.stdout);
    expect(keptService).toMatchObject({ rolledBack: true });
    expect(keptService.databaseRestored).toBeUndefined();
    expect(await tables()).toEqual(["notes", "tags"]);

    // --restore-db: the Worker is rolled back and the database is put back as it was before 0003.
    await writeFile(
      join(dir, "migrations", "0003_labels.sql"),
      "CREATE TABLE labels (id INTEGER PRIMARY KEY);",
    );
    const restored = await lego([
      "deploy",
      "ledger",
      "--env",
      "staging",
      "--json",
      "--live-timeout",
      "3",
      "--restore-db",
    ]);
    expect(restored.exitCode).toBe(1);
    const service = await reportOf(restored.stdout);
    expect(service).toMatchObject({ rolledBack: true, databaseRestored: true });
    expect(service.steps.map((s: { name: string }) => s.name)).toContain("restore-db");
    expect(await tables()).toEqual(["notes", "tags"]);

    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action === "deploy.finished").at(-1)).toMatchObject({
      result: "rolled-back",
      versionBefore: firstVersion,
      details: { databaseRestored: true, liveVersion: firstVersion },
    });
    expect(audit.map((e) => e.action)).toContain("db.restore.verified");

    // The bundle does not build: the Worker is built before any migration applies, so a pending
    // migration stays pending, nothing is deployed, and there is nothing to restore.
    await writeFile(
      join(dir, "migrations", "0004_flags.sql"),
      "CREATE TABLE flags (id INTEGER PRIMARY KEY);",
    );
    await writeFile(join(dir, "src", "index.js"), "export default {{ not javascript");
    const unbuilt = await lego(["deploy", "ledger", "--env", "staging", "--json", "--restore-db"]);
    expect(unbuilt.exitCode).toBe(1);
    const failed = await reportOf(unbuilt.stdout);
    expect(failed.rolledBack).toBeUndefined();
    expect(failed.databaseRestored).toBeUndefined();
    expect(failed.error.code).toBe("ERR_WRANGLER_BUILD_FAILED");
    // The build's own error, not "Build failed with 1 error".
    expect(failed.error.message).toContain("src/index.js:1:");
    expect(failed.steps.map((s: { name: string; status: string }) => [s.name, s.status]).slice(-1)).toEqual([
      ["build", "failed"],
    ]);
    expect(failed.steps.map((s: { name: string }) => s.name)).not.toContain("migrate");
    expect(await tables()).toEqual(["notes", "tags"]);
  }, 200_000);

  it("--dry-run lists the custom domains, zone routes and bindings a deploy would change, writing nothing", async () => {
    await writeFile(join(dir, "src", "index.js"), WORKER(200));
    const config = JSON.parse(WRANGLER);
    config.env.staging.routes = [{ pattern: "staging-ledger.example.com/*", zone_name: "example.com" }];
    config.env.staging.services = [{ binding: "AUTH", service: "auth-staging" }];
    await writeFile(join(dir, "wrangler.jsonc"), JSON.stringify(config));
    const runs = await readdir(join(root, ".lego", "runs"));
    const audit = await readFile(join(root, ".lego", "audit.jsonl"), "utf8");

    const res = await lego(["deploy", "ledger", "--env", "staging", "--dry-run", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const [svc] = oneJson(res.stdout).data.services;
    expect(svc.liveVersion).toBe(firstVersion);
    expect(svc.changes).toEqual(
      expect.arrayContaining([
        { kind: "remove", what: "custom domain staging-ledger.example.com" },
        { kind: "add", what: "route staging-ledger.example.com/*" },
        { kind: "add", what: "service binding AUTH → auth-staging" },
      ]),
    );
    // The D1 binding is live already: not a change.
    expect(JSON.stringify(svc.changes)).not.toContain("D1 binding");
    expect(await readdir(join(root, ".lego", "runs"))).toEqual(runs);
    expect(await readFile(join(root, ".lego", "audit.jsonl"), "utf8")).toBe(audit);
  }, 60_000);

  it("Ctrl-C during wrangler deploy exits 130 and still leaves the run's report and audit lines", async () => {
    await writeFile(join(dir, "wrangler.jsonc"), WRANGLER);
    const before = new Set(await readdir(join(root, ".lego", "runs")));
    const child = execa(
      process.execPath,
      [binPath, "deploy", "ledger", "--env", "staging", "--json", "--root", root],
      {
        env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
        extendEnv: false,
        stdin: "ignore",
        reject: false,
        timeout: 120_000,
      },
    );
    // Interrupt once the journal says wrangler deploy has started.
    let runId: string | undefined;
    for (let i = 0; i < 600 && !runId; i++) {
      await new Promise((r) => setTimeout(r, 50));
      for (const id of await readdir(join(root, ".lego", "runs"))) {
        if (before.has(id)) continue;
        const journal = await readFile(join(root, ".lego", "runs", id, "journal.jsonl"), "utf8").catch(
          () => "",
        );
        if (/"type":"step\.started".*"step":"deploy"/.test(journal)) runId = id;
      }
    }
    expect(runId).toBeDefined();
    child.kill("SIGINT");
    const res = await child;
    expect(res.exitCode, res.stderr).toBe(130);
    expect(oneJson(res.stdout).error.code).toBe("ERR_INTERRUPTED");
    const report = JSON.parse(await readFile(join(root, ".lego", "runs", runId!, "report.json"), "utf8"));
    expect(report.ok).toBe(false);
    expect(report.services[0].error).toMatchObject({ exitCode: 130, message: "interrupted during deploy" });
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.runId === runId && /^(run|deploy)\./.test(e.action));
    expect(audit.map((e) => [e.action, e.result])).toEqual([
      ["run.started", undefined],
      ["deploy.started", undefined],
      ["deploy.finished", "interrupted"],
      ["run.finished", "interrupted"],
    ]);
  }, 150_000);
});
