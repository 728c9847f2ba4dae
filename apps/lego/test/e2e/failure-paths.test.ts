// Failure paths of a deploy against an in-process local cloud that owns only example.com and refuses
// routes elsewhere (strictZones, as Cloudflare does), through the built CLI:
//   - a route on a zone the account does not have: exit 2 before anything is deployed, naming the
//     wrangler config and the key, with a hint; the live version unchanged;
//   - wrangler failing after the new version went live (`PUT *domains/records` failing every time): the
//     new version is rolled back, the API serves the previous one, and the report says so;
//   - a new version whose /health answers 503 (no version id in the body): the rollback starts within a
//     few seconds of the live wait, not after the whole 30 s live timeout.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, type HomeWithCloud, homeWithLocalCloud, runBuilt } from "./built.ts";

// LEGO_E2E_BIN runs the test against a copy of the built CLI (a build elsewhere empties dist/ meanwhile).
const SCRIPT = process.env.LEGO_E2E_BIN ? { script: process.env.LEGO_E2E_BIN } : {};
const STACK = /^\s+at .+(\(|\s)\S+:\d+:\d+\)?$/m;

describe("deploy failure paths on the local cloud", () => {
  let local: HomeWithCloud;
  let cloud: HomeWithCloud["cloud"];
  let root: string;
  let env: Record<string, string>;
  const dir = () => join(root, "services", "web");
  const lego = (args: string[]) =>
    runBuilt([...args, "--root", root, "--json"], { ...SCRIPT, env, timeout: 180_000 });

  async function writeWorker(tag: string, healthStatus = 200): Promise<void> {
    await writeFile(
      join(dir(), "src", "index.js"),
      `export default { fetch(req) {
  const { pathname } = new URL(req.url);
  const body = JSON.stringify(pathname === "/health" ? { ok: ${healthStatus === 200}, tag: "${tag}" } : { tag: "${tag}" });
  return new Response(body, { status: pathname === "/health" ? ${healthStatus} : 200, headers: { "content-type": "application/json" } });
} };\n`,
    );
  }
  async function writeConfig(routes: unknown[]): Promise<void> {
    await writeFile(
      join(dir(), "wrangler.jsonc"),
      JSON.stringify(
        { name: "web", main: "src/index.js", compatibility_date: "2025-09-01", env: { staging: { routes } } },
        null,
        2,
      ),
    );
  }
  const GOOD_ROUTES = [{ pattern: "web.example.com", custom_domain: true }];

  /** The version the API's latest deployment serves (100%). */
  async function live(): Promise<string | undefined> {
    const res = await fetch(
      `${cloud.apiBaseUrl}/accounts/${cloud.accountId}/workers/scripts/web-staging/deployments`,
      { headers: { authorization: `Bearer ${cloud.token}` } },
    );
    const body = (await res.json()) as {
      result: { deployments: Array<{ versions: Array<{ version_id: string; percentage: number }> }> };
    };
    return body.result.deployments[0]?.versions.find((v) => v.percentage === 100)?.version_id;
  }

  beforeAll(async () => {
    if (!SCRIPT.script) assertBuilt();
    local = await homeWithLocalCloud({ zones: ["example.com"], strictZones: true });
    ({ cloud, root, env } = local);
    await mkdir(join(dir(), "src"), { recursive: true });
    await writeWorker("v1");
    await writeConfig(GOOD_ROUTES);
  }, 60_000);
  afterAll(async () => {
    await local?.dispose();
  });

  let first: string | undefined;
  it("deploys a first, healthy version", async () => {
    const r = await lego(["deploy", "web", "--env", "staging", "--no-tests"]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    first = await live();
    expect(first).toBe(JSON.parse(r.stdout).data.services[0].liveVersion);
  }, 180_000);

  it("a route on a zone the account does not have: exit 2 naming the file and key, nothing deployed", async () => {
    await writeWorker("v-zone");
    // The route's host is in example.com, but it names a zone the account does not have.
    await writeConfig([...GOOD_ROUTES, { pattern: "web.example.com/app/*", zone_name: "nosuch-zone.dev" }]);
    const r = await lego(["deploy", "web", "--env", "staging", "--no-tests"]);
    const context = r.stdout + r.stderr;
    expect(r.exitCode, context).toBe(2);
    const error = JSON.parse(r.stdout).error;
    const said = `${error.message}\n${error.hint ?? ""}`;
    expect(said, context).toContain("services/web/wrangler.jsonc");
    expect(said, context).toContain("env.staging.routes[1].zone_name");
    expect(said, context).toContain("nosuch-zone.dev");
    expect(error.hint, context).toBeTruthy();
    expect(context).not.toMatch(STACK);
    expect(await live()).toBe(first);
    await writeConfig(GOOD_ROUTES);
  }, 180_000);

  it("wrangler failing after the new version went live: rolled back to the previous version", async () => {
    await writeWorker("v-after-live");
    cloud.setFaults([{ route: "PUT *domains/records", kind: "5xx", probability: 1 }], 3);
    let r: Awaited<ReturnType<typeof lego>>;
    try {
      r = await lego(["deploy", "web", "--env", "staging", "--no-tests"]);
    } finally {
      cloud.setFaults([]);
    }
    const context = r.stdout + r.stderr;
    expect(r.exitCode, context).toBe(1);
    const service = JSON.parse(r.stdout).error.details.run.services[0];
    expect(service.versionAfter, context).toBeTruthy();
    expect(service.versionAfter).not.toBe(first);
    expect(service.status, context).toBe("rolled-back");
    expect(service.liveVersion).toBe(first);
    expect(service.error.message, context).toMatch(/went live, but wrangler failed after/);
    // The hint's "stderrTail" exists: wrangler's last lines, in --json and in the run report.
    expect(service.error.stderrTail, context).toBeTruthy();
    const report = JSON.parse(await readFile(JSON.parse(r.stdout).error.details.run.report.json, "utf8"));
    expect(report.services[0].error.stderrTail).toBeTruthy();
    expect(report.services[0].error.hint).toContain("stderrTail");
    expect(await live()).toBe(first);
  }, 180_000);

  it("a /health answering 503: the rollback starts within seconds, not after the 30 s live timeout", async () => {
    await writeWorker("v-503", 503);
    const r = await lego(["deploy", "web", "--env", "staging", "--no-tests"]);
    const context = r.stdout + r.stderr;
    expect(r.exitCode, context).toBe(1);
    const doc = JSON.parse(r.stdout).error.details.run;
    expect(doc.services[0].status, context).toBe("rolled-back");
    expect(await live()).toBe(first);
    const journal = (await readFile(join(root, ".lego", "runs", doc.runId, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { at: string; type: string; step?: string });
    const at = (type: string, step: string) =>
      Date.parse(journal.find((e) => e.type === type && e.step === step)?.at ?? "");
    const waited = at("step.started", "rollback") - at("step.started", "wait-live");
    console.log(`503 health: rollback started ${waited} ms after the live wait began`);
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(8_000);
  }, 180_000);
});
