// `lego deploy --strategy canary` with the built CLI on the local cloud: a version failing its
// pre-traffic tests never gets traffic; one failing ~20% of real requests is rolled back during a bake;
// a good one reaches 100%, and plain requests sampled during each step are served at the shares the
// API reports. Every outcome is read back from the local cloud's API and the Worker's own answers.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, d1Query, runBuilt, tempHome } from "./built.ts";

const SCRIPT = "hello-staging";

const WRANGLER = `{
  "name": "hello",
  "main": "src/index.js",
  "compatibility_date": "2025-09-01",
  "version_metadata": { "binding": "CF_VERSION_METADATA" },
  "env": {
    "staging": {
      "version_metadata": { "binding": "CF_VERSION_METADATA" },
      "routes": [{ "pattern": "staging-hello.example.com", "custom_domain": true }]
    }
  }
}
`;

/**
 * Every answer names the version that served it (the version metadata binding). `healthStatus` 500 fails
 * the pre-traffic tests; `flaky` fails every 5th request to any other path (20%) with a 500.
 */
const WORKER = (release: string, o: { healthStatus?: number; flaky?: boolean } = {}) => `
let served = 0;
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const version = env.CF_VERSION_METADATA?.id ?? null;
    if (url.pathname === "/health")
      return Response.json({ ok: ${o.healthStatus ?? 200} === 200, release: "${release}", version }, { status: ${o.healthStatus ?? 200} });
    served++;
    if (${o.flaky === true} && served % 5 === 0) return Response.json({ error: "flaky", release: "${release}", version }, { status: 500 });
    return Response.json({ release: "${release}", version });
  },
};
`;

const DOMAINS = `export const domains = {
  hello: {
    name: "hello",
    domains: { staging: "staging-hello.example.com" },
    features: {},
    tests: {
      health: { path: "/health", expectStatus: 200, expectJson: { ok: true } },
      latency: { path: "/health", samples: 5 },
    },
  },
};
`;

async function writeService(root: string, release: string, o: Parameters<typeof WORKER>[1] = {}) {
  const dir = join(root, "services", "hello");
  await mkdir(join(dir, "src", "config"), { recursive: true });
  await writeFile(join(dir, "wrangler.jsonc"), WRANGLER);
  await writeFile(join(dir, "src", "index.js"), WORKER(release, o));
  await writeFile(join(dir, "src", "config", "domains.js"), DOMAINS);
}

type Share = { version_id: string; percentage: number };
type Deployment = { id: string; versions: Share[] };

describe("lego deploy --strategy canary on the local cloud", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let root: string;
  let env: Record<string, string>;
  let server: { apiBaseUrl: string; token: string; accountId: string };
  let url: string;
  let v1: string;
  const lego = (args: string[]) => runBuilt([...args, "--root", root], { env, timeout: 120_000 });
  const canary = (...extra: string[]) =>
    lego(["deploy", "hello", "--env", "staging", "--strategy", "canary", "--json", ...extra]);

  /** Newest first, from the local cloud's API. */
  const deployments = async (): Promise<Deployment[]> => {
    const res = await fetch(
      `${server.apiBaseUrl}/accounts/${server.accountId}/workers/scripts/${SCRIPT}/deployments`,
      { headers: { authorization: `Bearer ${server.token}` } },
    );
    return ((await res.json()) as { result: { deployments: Deployment[] } }).result.deployments;
  };
  const get = async (path = "/") => {
    const { defaultHttpClient } = await import("@lego/deployment");
    const res = await defaultHttpClient(new URL(path, url).href);
    return { status: res.status, body: JSON.parse(res.body) as { release: string; version: string } };
  };
  const report = async (runId: string) =>
    JSON.parse(await readFile(join(root, ".lego", "runs", runId, "report.json"), "utf8"));
  const audit = async () =>
    (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));

  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
    root = join(home.dir, "portfolio");
    env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    await writeService(root, "v1");
    const up = await runBuilt(["local", "up", "--port", "0", "--zone", "example.com", "--json"], {
      env,
      timeout: 60_000,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    server = JSON.parse(await readFile(join(home.legoHome, "local", "server.json"), "utf8"));
    const first = await lego(["deploy", "hello", "--env", "staging", "--json", "--no-tests"]);
    expect(first.exitCode, first.stderr).toBe(0);
    const [svc] = JSON.parse(first.stdout).data.services;
    v1 = svc.versionAfter;
    url = svc.url;
  }, 120_000);

  afterAll(async () => {
    await runBuilt(["local", "down"], { env });
    await home?.dispose();
  });

  it("a new version failing its pre-traffic tests never receives traffic: exit 1, the old one keeps 100%", async () => {
    await writeService(root, "broken", { healthStatus: 500 });
    const res = await canary("--steps", "10,50,100", "--bake", "1s", "--live-timeout", "5");
    expect(res.exitCode, res.stderr).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.message).toContain("pre-traffic tests");
    expect(doc.error.message).toContain("No traffic moved");
    expect(res.stderr).not.toMatch(/^\s+at /m);
    const r = await report(doc.error.details.runId);
    const [svc] = r.services;
    const broken = svc.versionAfter as string;
    expect(broken).toMatch(/^[0-9a-f-]{36}$/);
    expect(svc.status).toBe("failed");
    expect(svc.liveVersion).toBe(v1);
    expect(svc.canary.phases).toMatchObject([{ kind: "pre-traffic", percent: 0, decision: "rollback" }]);
    expect(svc.canary.outcome).toBe("rolled-back");
    // The cloud is the record: v1 alone serves, and no deployment ever gave the broken version a share.
    const all = await deployments();
    expect(all[0]?.versions).toEqual([{ version_id: v1, percentage: 100 }]);
    const shares = all.flatMap((d) => d.versions).filter((v) => v.version_id === broken);
    expect(shares.length).toBeGreaterThan(0); // staged at 0% for the override
    expect(shares.every((v) => v.percentage === 0)).toBe(true);
    expect((await get()).body).toEqual({ release: "v1", version: v1 });
  }, 120_000);

  it("a version failing ~20% of real requests passes its tests, then is rolled back during the bake, saying why", async () => {
    await writeService(root, "flaky", { flaky: true });
    const res = await canary("--steps", "10,50,100", "--bake", "1s");
    expect(res.exitCode, res.stderr).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.message).toMatch(/canary rolled back at 10%: error rate \d+\.\d% on the new version/);
    const [svc] = (await report(doc.error.details.runId)).services;
    expect(svc.status).toBe("rolled-back");
    expect(svc.liveVersion).toBe(v1);
    const [pre, ten] = svc.canary.phases;
    expect(pre).toMatchObject({ kind: "pre-traffic", decision: "advance" });
    expect(svc.tests.ok).toBe(true);
    expect(ten).toMatchObject({ kind: "traffic", percent: 10, decision: "rollback" });
    expect(ten.traffic).toEqual(
      expect.arrayContaining([
        { versionId: svc.versionAfter, percentage: 10 },
        { versionId: v1, percentage: 90 },
      ]),
    );
    expect(ten.metrics.new.requests).toBeGreaterThanOrEqual(20);
    expect(ten.metrics.new.errorRate).toBeGreaterThan(0.05);
    expect(ten.metrics.old.errorRate).toBe(0);
    expect(ten.metrics.new.p95Ms).toBeGreaterThan(0);
    expect(ten.reason).toContain("error rate");
    expect(svc.canary.phases).toHaveLength(2);
    expect((await deployments())[0]?.versions).toEqual([{ version_id: v1, percentage: 100 }]);
    // The audit log and the HTML timeline carry the step and its decision.
    const steps = (await audit()).filter(
      (e) => e.action === "canary.step" && e.runId === doc.error.details.runId,
    );
    expect(steps.map((e) => [e.details.percent, e.details.decision])).toEqual([
      [0, "advance"],
      [10, "rollback"],
    ]);
    expect(steps[1].details.metrics.new.errorRate).toBeGreaterThan(0.05);
    const html = await readFile(join(root, ".lego", "runs", doc.error.details.runId, "report.html"), "utf8");
    expect(html).toContain('data-canary-step="10" data-decision="rollback"');
  }, 120_000);

  it("a good version reaches 100%, and plain requests sampled during each step follow the shares read back", async () => {
    await writeService(root, "v2");
    const run = canary("--steps", "10,50,100", "--bake", "3s");
    let done = false;
    void run.finally(() => {
      done = true;
    });
    // Watch the API; on each new split, sample 200 plain requests, and keep the sample only if the split
    // did not change while it was taken.
    const samples: Array<{ percent: number; requests: number; share: number }> = [];
    const seen = new Set<string>();
    while (!done) {
      const [live] = await deployments();
      const fresh = live?.versions.find((v) => v.version_id !== v1);
      if (live && fresh && fresh.percentage < 100 && !seen.has(live.id)) {
        seen.add(live.id);
        const versions: string[] = [];
        for (let batch = 0; batch < 10; batch++)
          versions.push(
            ...(await Promise.all(Array.from({ length: 20 }, async () => (await get()).body.version))),
          );
        const [after] = await deployments();
        if (after?.id === live.id) {
          expect(new Set(versions).size).toBeLessThanOrEqual(2);
          samples.push({
            percent: fresh.percentage,
            requests: versions.length,
            share: (100 * versions.filter((v) => v === fresh.version_id).length) / versions.length,
          });
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await run;
    expect(res.exitCode, res.stderr).toBe(0);
    const [svc] = JSON.parse(res.stdout).data.services;
    const v2 = svc.versionAfter as string;
    expect(svc.canary.outcome).toBe("promoted");
    expect(
      svc.canary.phases.map((p: { percent: number; decision: string }) => [p.percent, p.decision]),
    ).toEqual([
      [0, "advance"],
      [10, "advance"],
      [50, "advance"],
      [100, "promoted"],
    ]);
    expect(svc.liveVersion).toBe(v2);
    expect((await deployments())[0]?.versions).toEqual([{ version_id: v2, percentage: 100 }]);
    // Each traffic step was sampled while it was live, and the new version's share is within 10 points.
    for (const step of [10, 50]) {
      const sample = samples.find((s) => s.percent === step);
      expect(sample, `no sample taken during the ${step}% step: ${JSON.stringify(samples)}`).toBeDefined();
      expect(sample?.requests).toBeGreaterThanOrEqual(200);
      expect(Math.abs((sample?.share ?? -100) - step), JSON.stringify(samples)).toBeLessThanOrEqual(10);
    }
    // At 0% (if the short pre-traffic window was caught) the new version served no plain request.
    for (const s of samples.filter((x) => x.percent === 0)) expect(s.share).toBe(0);
    // At 100%: every plain request.
    const final: string[] = await Promise.all(
      Array.from({ length: 200 }, async () => (await get()).body.version),
    );
    expect(final.every((v) => v === v2)).toBe(true);
  }, 120_000);

  it("a pending migration that renames a column stops a canary with exit 2 before any change; --force applies it", async () => {
    // A second service with a D1 database, in the same portfolio.
    const dir = join(root, "services", "ledger");
    await mkdir(join(dir, "src", "config"), { recursive: true });
    await mkdir(join(dir, "migrations"), { recursive: true });
    await writeFile(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "ledger",
        main: "src/index.js",
        compatibility_date: "2025-09-01",
        env: {
          staging: {
            routes: [{ pattern: "staging-ledger.example.com", custom_domain: true }],
            d1_databases: [{ binding: "DB", database_name: "ledger-db-staging" }],
          },
        },
      }),
    );
    await writeFile(
      join(dir, "src", "index.js"),
      `export default { async fetch(request, env) { const { n } = await env.DB.prepare("SELECT COUNT(*) AS n FROM notes").first(); return Response.json({ ok: true, notes: n }); } };`,
    );
    await writeFile(
      join(dir, "src", "config", "domains.js"),
      `export const domains = { ledger: { name: "ledger", domains: { staging: "staging-ledger.example.com" }, features: {} } };`,
    );
    await writeFile(
      join(dir, "migrations", "0001_init.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n",
    );
    const first = await lego(["deploy", "ledger", "--env", "staging", "--json"]);
    expect(first.exitCode, first.stderr).toBe(0);
    const ledgerDeployments = async () => {
      const res = await fetch(
        `${server.apiBaseUrl}/accounts/${server.accountId}/workers/scripts/ledger-staging/deployments`,
        { headers: { authorization: `Bearer ${server.token}` } },
      );
      return ((await res.json()) as { result: { deployments: Deployment[] } }).result.deployments;
    };
    const applied = async () =>
      (
        await d1Query<{ name: string }>(
          server,
          "ledger-db-staging",
          "SELECT name FROM d1_migrations ORDER BY id",
        )
      ).map((r) => r.name);
    expect(await applied()).toEqual(["0001_init.sql"]);
    const before = (await ledgerDeployments())[0]?.id;
    await writeFile(
      join(dir, "migrations", "0002_rename.sql"),
      "-- contract\nALTER TABLE notes RENAME COLUMN body TO text;\n",
    );
    const refused = await lego([
      "deploy",
      "ledger",
      "--env",
      "staging",
      "--strategy",
      "canary",
      "--bake",
      "1s",
      "--json",
    ]);
    expect(refused.exitCode, refused.stderr).toBe(2);
    const doc = JSON.parse(refused.stdout);
    expect(doc.error.message).toContain("0002_rename.sql");
    expect(doc.error.message).toContain("ALTER TABLE notes RENAME COLUMN body TO text");
    expect(doc.error.hint).toMatch(/expand\/contract/i);
    expect(doc.error.hint).toContain("--force");
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    // Nothing changed: no migration applied, no new deployment.
    expect(await applied()).toEqual(["0001_init.sql"]);
    expect((await ledgerDeployments())[0]?.id).toBe(before);
    const forced = await lego([
      "deploy",
      "ledger",
      "--env",
      "staging",
      "--strategy",
      "canary",
      "--steps",
      "100",
      "--force",
      "--json",
    ]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    const [svc] = JSON.parse(forced.stdout).data.services;
    expect(svc.canary.strategy).toBe("blue-green");
    expect(await applied()).toEqual(["0001_init.sql", "0002_rename.sql"]);
    expect((await ledgerDeployments())[0]?.versions).toEqual([
      { version_id: svc.versionAfter, percentage: 100 },
    ]);
  }, 120_000);

  it("bad --steps and --bake values exit 2 naming the flag, with a hint, and change nothing", async () => {
    const before = (await deployments())[0]?.id;
    for (const [flag, value] of [
      ["--steps", "50,10"],
      ["--steps", "10,50"],
      ["--bake", "soon"],
    ] as const) {
      const res = await canary(flag, value);
      expect(res.exitCode, `${flag} ${value}: ${res.stderr}`).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.message).toContain(flag);
      expect(doc.error.hint).toBeTruthy();
      expect(res.stderr).not.toMatch(/^\s+at /m);
    }
    const stray = await lego(["deploy", "hello", "--env", "staging", "--bake", "2s", "--json"]);
    expect(stray.exitCode).toBe(2);
    expect(JSON.parse(stray.stdout).error.message).toContain("--bake only applies to --strategy canary");
    const strategy = await lego(["deploy", "hello", "--env", "staging", "--strategy", "linear", "--json"]);
    expect(strategy.exitCode).toBe(2);
    expect(strategy.stdout + strategy.stderr).toContain("--strategy");
    expect((await deployments())[0]?.id).toBe(before);
    const help = await lego(["deploy", "--help"]);
    expect(help.stdout).toContain("--strategy");
    expect(help.stdout).toContain("--steps");
    expect(help.stdout).toContain("--bake");
  }, 120_000);
});
