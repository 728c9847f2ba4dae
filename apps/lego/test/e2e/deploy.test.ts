import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runBuilt, tempHome } from "./built.ts";

const WRANGLER = (env: "v1" | "v2" | "broken") => `{
  "name": "hello",
  "main": "src/index.js",
  "compatibility_date": "2025-09-01",
  "version_metadata": { "binding": "CF_VERSION_METADATA" },
  "vars": { "RELEASE": "${env}" },
  "env": {
    "staging": {
      "vars": { "RELEASE": "${env}" },
      "version_metadata": { "binding": "CF_VERSION_METADATA" },
      "routes": [{ "pattern": "staging-hello.example.com", "custom_domain": true }]
    }
  }
}
`;

const WORKER = (release: string, healthStatus: number) => `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = { ok: ${healthStatus} === 200, service: "hello", release: "${release}", version: env.CF_VERSION_METADATA?.id ?? null };
    if (url.pathname === "/health") return Response.json(body, { status: ${healthStatus} });
    return new Response("hello from ${release}\\n");
  },
};
`;

// The seed's plain-object domain config, no imports.
const DOMAINS = `export const domains = {
  hello: {
    name: "hello",
    displayName: "Hello",
    domains: { staging: "staging-hello.example.com" },
    features: {},
    tests: { health: { path: "/health", expectStatus: 200, expectJson: { ok: true } }, latency: { samples: 5 } },
  },
};
`;

async function writeService(root: string, release: "v1" | "v2" | "broken"): Promise<void> {
  const dir = join(root, "services", "hello");
  await mkdir(join(dir, "src", "config"), { recursive: true });
  await writeFile(join(dir, "wrangler.jsonc"), WRANGLER(release === "broken" ? "v2" : release));
  await writeFile(join(dir, "src", "index.js"), WORKER(release, release === "broken" ? 500 : 200));
  await writeFile(join(dir, "src", "config", "domains.js"), DOMAINS);
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const { defaultHttpClient } = await import("@lego/deployment");
  const res = await defaultHttpClient(url);
  return { status: res.status, text: res.body };
}

describe("lego deploy / test / rollback / audit against the local cloud", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let root: string;
  let env: Record<string, string>;
  const lego = (args: string[]) => runBuilt([...args, "--root", root], { env, timeout: 120_000 });

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
  }, 90_000);

  afterAll(async () => {
    await runBuilt(["local", "down"], { env });
    await home?.dispose();
  });

  let v1: string;
  let broken: string;
  let url: string;
  const auditLog = async () =>
    (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));

  it("deploys, waits until live, tests, and reports the URL that answers with the new code", async () => {
    const res = await lego(["deploy", "hello", "--env", "staging", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(true);
    const [svc] = doc.data.services;
    expect(svc).toMatchObject({
      service: "hello",
      environment: "staging",
      scriptName: "hello-staging",
      ok: true,
      versionBefore: null,
    });
    expect(svc.tests.checks.map((c: { id: string }) => c.id)).toEqual(["health", "latency"]);
    v1 = svc.versionAfter;
    url = svc.url;
    expect(url).toMatch(/^http:\/\/staging-hello\.example\.com\.localhost:\d+\/$/);
    const page = await get(url);
    expect(page).toEqual({ status: 200, text: "hello from v1\n" });
    const health = JSON.parse((await get(`${url}health`)).text);
    expect(health.version).toBe(v1);
    // The run left its journal, report (json, md, html) and audit lines.
    const runDir = join(root, ".lego", "runs", doc.data.runId);
    expect((await readdir(runDir)).sort()).toEqual([
      "journal.jsonl",
      "report.html",
      "report.json",
      "report.md",
    ]);
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(audit.find((e) => e.action === "deploy.finished")).toMatchObject({
      service: "hello",
      environment: "staging",
      result: "ok",
      versionAfter: v1,
      target: "local",
    });
  }, 120_000);

  it("a version whose health check fails is rolled back: exit 1, the old version answers", async () => {
    await writeService(root, "broken");
    const res = await lego(["deploy", "hello", "--env", "staging", "--json", "--live-timeout", "5"]);
    expect(res.exitCode).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe("ERR_DEPLOY_FAILED");
    expect(doc.error.message).toContain("rolled back");
    expect(await get(url)).toEqual({ status: 200, text: "hello from v1\n" });
    const audit = (await readFile(join(root, ".lego", "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const finished = audit.filter((e) => e.action === "deploy.finished").at(-1);
    expect(finished).toMatchObject({ result: "rolled-back", versionBefore: v1 });
    broken = finished.versionAfter;
    expect(broken).toMatch(/^[0-9a-f-]{36}$/);
    expect(broken).not.toBe(v1);
  }, 120_000);

  it("a plain lego rollback after an automatic one refuses to bring the broken version back", async () => {
    // Live: v1 (the automatic rollback); before it only the broken version and v1 itself, so there is
    // no earlier good version: exit 2, nothing changes, and the refused run is still recorded.
    const res = await lego(["rollback", "hello", "--env", "staging", "--json"]);
    expect(res.exitCode, res.stderr).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe("ERR_ROLLBACK_NO_PREVIOUS");
    expect(doc.error.message).toContain(broken);
    expect(await get(url)).toEqual({ status: 200, text: "hello from v1\n" });
    expect(JSON.parse((await get(`${url}health`)).text).version).toBe(v1);
    const finished = (await auditLog()).filter((e) => e.action === "rollback.finished").at(-1);
    expect(finished).toMatchObject({
      service: "hello",
      environment: "staging",
      result: "failed",
      versionBefore: v1,
      versionAfter: v1,
    });
    const shown = await lego(["runs", "show", finished.runId, "--json"]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).data.report).toMatchObject({
      kind: "rollback",
      ok: false,
      services: [{ service: "hello", error: { code: "ERR_ROLLBACK_NO_PREVIOUS" } }],
    });
  }, 120_000);

  it("lego rollback returns to the previous version after a good deploy", async () => {
    await writeService(root, "v2");
    const deployed = await lego(["deploy", "hello", "--env", "staging", "--json", "--no-tests"]);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    expect((await get(url)).text).toBe("hello from v2\n");
    const v2 = JSON.parse(deployed.stdout).data.services[0].versionAfter;
    const rolled = await lego(["rollback", "hello", "--env", "staging", "--json"]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    const data = JSON.parse(rolled.stdout).data;
    // v1, not the broken version rolled back from earlier.
    expect(data).toMatchObject({ service: "hello", verified: true, from: v2, to: v1 });
    expect((await get(url)).text).toBe("hello from v1\n");
    // The rollback is a run like a deploy: its report, in `runs show` and `runs list`, and its audit line.
    const shown = await lego(["runs", "show", data.runId, "--json"]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).data.report).toMatchObject({
      runId: data.runId,
      kind: "rollback",
      ok: true,
      services: [{ service: "hello", environment: "staging", ok: true, versionBefore: v2, versionAfter: v1 }],
    });
    const listed = await lego(["runs", "list", "--json"]);
    expect(JSON.parse(listed.stdout).data.runs).toContainEqual(
      expect.objectContaining({
        runId: data.runId,
        ok: true,
        kind: "rollback",
        command: expect.stringContaining("lego rollback hello --env staging"),
      }),
    );
    expect((await readdir(join(root, ".lego", "runs", data.runId))).sort()).toEqual([
      "journal.jsonl",
      "report.html",
      "report.json",
      "report.md",
    ]);
    expect((await auditLog()).filter((e) => e.action === "rollback.finished").at(-1)).toMatchObject({
      runId: data.runId,
      result: "ok",
      versionBefore: v2,
      versionAfter: v1,
    });
  }, 120_000);

  it("lego test, lego audit and lego runs answer with --json", async () => {
    const tested = await lego(["test", "staging-hello.example.com", "--json"]);
    expect(tested.exitCode, tested.stderr).toBe(0);
    expect(JSON.parse(tested.stdout).data.results[0].report.ok).toBe(true);
    const audit = await lego(["audit", "--service", "hello", "--json"]);
    expect(JSON.parse(audit.stdout).data.events.length).toBeGreaterThanOrEqual(4);
    const runs = await lego(["runs", "list", "--json"]);
    expect(JSON.parse(runs.stdout).data.runs.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("--dry-run writes nothing and lists what would change", async () => {
    const before = await readdir(join(root, ".lego", "runs"));
    const res = await lego(["deploy", "hello", "--env", "staging", "--dry-run", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const [svc] = JSON.parse(res.stdout).data.services;
    expect(svc.bundle.bytes).toBeGreaterThan(100);
    expect(svc.liveVersion).toMatch(/^[0-9a-f-]{36}$/);
    expect(await readdir(join(root, ".lego", "runs"))).toEqual(before);
  }, 60_000);
});
