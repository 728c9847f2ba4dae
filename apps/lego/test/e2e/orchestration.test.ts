// The run engine end to end: a generated 12-service portfolio in 3 dependency levels, deployed by the
// built CLI with the real wrangler to the local cloud, one middle-level service failing its tests.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM without types, shared with the orchestration bench.
import { generatePortfolio, planPortfolio } from "../../../../bench/portfolio/generate.mjs";
import { assertBuilt, binPath, runBuilt, tempHome } from "./built.ts";

const FAILING = "l1-svc-06";
type Planned = { name: string; dependsOn: string[] };
const planned: Planned[] = planPortfolio({ services: 12, levels: 3, failing: [FAILING] }).services;
// l1-svc-06's dependents: l2-svc-09 and l2-svc-10.
const dependents = planned.filter((s) => s.dependsOn.includes(FAILING)).map((s) => s.name);

interface ServiceJson {
  service: string;
  status: string;
  skipReason?: string;
  url?: string;
  versionBefore: string | null;
  versionAfter: string | null;
  liveVersion: string | null;
  wave?: number;
}

async function health(url: string): Promise<{ status: number; versionId?: string }> {
  const { defaultHttpClient } = await import("@lego/deployment");
  const res = await defaultHttpClient(`${url}health`);
  let versionId: string | undefined;
  try {
    versionId = (JSON.parse(res.body) as { versionId?: string }).versionId;
  } catch {}
  return { status: res.status, ...(versionId ? { versionId } : {}) };
}

describe("portfolio deploys through the run engine (12 services, 3 levels)", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let root: string;
  let env: Record<string, string>;
  const lego = (args: string[], timeout = 240_000) => runBuilt([...args, "--root", root], { env, timeout });
  const runOf = (stdout: string): { runId: string; services: ServiceJson[]; waves: string[][] } => {
    const doc = JSON.parse(stdout);
    return doc.ok ? doc.data : doc.error.details.run;
  };

  beforeAll(async () => {
    assertBuilt();
    home = await tempHome();
    root = join(home.dir, "portfolio");
    env = { LEGO_HOME: home.legoHome, HOME: home.dir };
    await generatePortfolio(root, { services: 12, levels: 3, failing: [FAILING] });
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

  it("--dry-run prints the waves (the seed's `lego deploy-portfolio --environment`)", async () => {
    const res = await lego(["deploy-portfolio", "--environment", "staging", "--dry-run", "--json"]);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.data.waves).toEqual([
      ["l0-svc-01", "l0-svc-02", "l0-svc-03", "l0-svc-04"],
      ["l1-svc-05", "l1-svc-06", "l1-svc-07", "l1-svc-08"],
      ["l2-svc-09", "l2-svc-10", "l2-svc-11", "l2-svc-12"],
    ]);
  }, 120_000);

  it("the seed's forms name services: deploy-multi … --parallel, lego-master-deploy orchestrate --domains", async () => {
    const multi = await lego([
      "deploy-multi",
      "l0-svc-01",
      "l1-svc-05",
      "--environment",
      "staging",
      "--parallel",
      "--dry-run",
      "--json",
    ]);
    expect(multi.exitCode, multi.stderr).toBe(0);
    expect(JSON.parse(multi.stdout).data.waves).toEqual([["l0-svc-01"], ["l1-svc-05"]]);
    const orchestrate = await runBuilt(
      [
        "orchestrate",
        "--domains",
        "l0-svc-02,l0-svc-03",
        "--env",
        "staging",
        "--dry-run",
        "--json",
        "--root",
        root,
      ],
      { env, timeout: 120_000, script: binPath.replace(/bin\.js$/, "bins/lego-master-deploy.js") },
    );
    expect(orchestrate.exitCode, orchestrate.stderr).toBe(0);
    expect(JSON.parse(orchestrate.stdout).data.waves).toEqual([["l0-svc-02", "l0-svc-03"]]);
  }, 120_000);

  it("a failing middle service skips only its dependents, with the reason; every other service is live; exit 1", async () => {
    const res = await lego(["deploy", "--all", "--env", "staging", "--json", "--concurrency", "4"]);
    expect(res.exitCode, res.stderr).toBe(1);
    const run = runOf(res.stdout);
    const byName = new Map(run.services.map((s) => [s.service, s]));
    expect(byName.get(FAILING)?.status).toBe("failed");
    for (const name of dependents)
      expect(byName.get(name)).toMatchObject({ status: "skipped", skipReason: `${FAILING} failed` });
    const live = run.services.filter((s) => s.service !== FAILING && !dependents.includes(s.service));
    expect(live).toHaveLength(9);
    for (const s of live) {
      expect(s.status, s.service).toBe("ok");
      const answer = await health(s.url as string);
      expect(answer, s.service).toEqual({ status: 200, versionId: s.versionAfter });
      expect(s.liveVersion).toBe(s.versionAfter);
    }
    // The report on disk says the same, and skipped is not failed anywhere.
    const report = JSON.parse(await readFile(join(root, ".lego", "runs", run.runId, "report.json"), "utf8"));
    expect(
      report.services.filter((s: ServiceJson) => s.status === "skipped").map((s: ServiceJson) => s.service),
    ).toEqual(dependents);
    expect(
      report.services.filter((s: ServiceJson) => s.status === "failed").map((s: ServiceJson) => s.service),
    ).toEqual([FAILING]);
    const html = await readFile(join(root, ".lego", "runs", run.runId, "report.html"), "utf8");
    expect(html).toContain(`data-service="${dependents[0]}" data-status="skipped"`);
    // Services ran at once: some wave-0 service started before another finished.
    const journal = (await readFile(join(root, ".lego", "runs", run.runId, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const deployStarts = journal.filter((e) => e.type === "step.started" && e.step === "deploy");
    const firstFinish = journal.findIndex((e) => e.type === "service.finished");
    expect(journal.indexOf(deployStarts[1])).toBeLessThan(firstFinish);
  }, 300_000);

  it("--on-failure rollback-all puts every service back on its rollback point, verified, and answering", async () => {
    const res = await lego(["deploy", "--all", "--env", "staging", "--json", "--on-failure", "rollback-all"]);
    expect(res.exitCode, res.stderr).toBe(1);
    const run = runOf(res.stdout);
    const updated = run.services.filter((s) => s.status === "reverted" || s.status === "rolled-back");
    expect(updated.length).toBeGreaterThan(0);
    expect(run.services.some((s) => s.status === "ok")).toBe(false);
    for (const s of updated) {
      expect(s.liveVersion, s.service).toBe(s.versionBefore);
      const answer = await health(s.url as string);
      expect(answer.versionId, s.service).toBe(s.versionBefore);
    }
    // Each rollback was verified by the production tests (the failing service's own only by health).
    const report = JSON.parse(await readFile(join(root, ".lego", "runs", run.runId, "report.json"), "utf8"));
    for (const s of report.services.filter((x: ServiceJson) => x.status === "reverted"))
      expect(s.steps.map((st: { name: string }) => st.name).slice(-2), s.service).toEqual([
        "rollback",
        "tests",
      ]);
  }, 300_000);

  it("two deploys of disjoint services run at once; lego runs list shows both", async () => {
    const [a, b] = await Promise.all([
      lego(["deploy", "l0-svc-01", "--env", "staging", "--json", "--no-tests"]),
      lego(["deploy", "l0-svc-04", "--env", "staging", "--json", "--no-tests"]),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const ids = [JSON.parse(a.stdout).data.runId, JSON.parse(b.stdout).data.runId];
    const list = JSON.parse((await lego(["runs", "list", "--json"])).stdout).data.runs as Array<{
      runId: string;
      status: string;
    }>;
    for (const id of ids) expect(list.find((r) => r.runId === id)?.status).toBe("ok");
  }, 300_000);

  it("a kill -9 during a parallel deploy shows as interrupted in lego runs list", async () => {
    const child = execa(
      process.execPath,
      [binPath, "deploy", "--all", "--env", "staging", "--no-tests", "--root", root],
      {
        env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
        extendEnv: false,
        stdin: "ignore",
        reject: false,
      },
    );
    // Wait until wrangler deploys are under way, then kill lego outright.
    const started = Date.now();
    let runId: string | undefined;
    while (Date.now() - started < 60_000) {
      const list = JSON.parse((await lego(["runs", "list", "--json"])).stdout).data.runs as Array<{
        runId: string;
        status: string;
        lastEvent?: string;
      }>;
      const running = list.find((r) => r.status === "running");
      if (running?.lastEvent?.includes("deploy")) {
        runId = running.runId;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(runId).toBeDefined();
    child.kill("SIGKILL");
    await child;
    const list = JSON.parse((await lego(["runs", "list", "--json"])).stdout).data.runs as Array<{
      runId: string;
      status: string;
      services: Array<{ service: string; status: string }>;
    }>;
    const killed = list.find((r) => r.runId === runId);
    expect(killed?.status).toBe("interrupted");
    expect(killed?.services.some((s) => s.status === "interrupted")).toBe(true);
    // Its locks are explained to the next run, which takes them over only when told to.
    const next = await lego(["deploy", "l0-svc-01", "--env", "staging", "--json", "--no-tests"]);
    expect(next.exitCode).toBe(4);
    expect(JSON.parse(next.stdout).error.message).toContain(runId);
    const forced = await lego([
      "deploy",
      "l0-svc-01",
      "--env",
      "staging",
      "--json",
      "--no-tests",
      "--break-stale-lock",
    ]);
    expect(forced.exitCode, forced.stderr).toBe(0);
  }, 300_000);
});
