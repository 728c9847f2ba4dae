// The seed README's orchestration snippet, run for real: the classes it names, constructed as it
// writes them, then deploying a small generated portfolio to a local cloud with the real wrangler.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cloud, openCloud } from "@lego/cloudflare";
import { defaultHttpClient } from "@lego/deployment";
import { type LocalCloud, startLocalCloud } from "@lego/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM without types, shared with the orchestration bench.
import { generatePortfolio } from "../../../bench/portfolio/generate.mjs";
import { CrossDomainCoordinator, MultiDomainOrchestrator } from "../src/index.ts";

let dir: string;
let root: string;
let local: LocalCloud;
let cloud: Cloud;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lego-seed-orch-"));
  root = join(dir, "portfolio");
  // 4 services in 2 levels: l1-svc-03 binds l0-svc-01 and l0-svc-02, l1-svc-04 binds l0-svc-01 and l0-svc-02's peer.
  await generatePortfolio(root, { services: 4, levels: 2 });
  local = await startLocalCloud({ stateDir: join(dir, "cloud"), zones: ["example.com"] });
  cloud = openCloud({
    target: {
      kind: "local",
      apiBaseUrl: local.apiBaseUrl,
      token: local.token,
      accountId: local.accountId,
      reason: "test",
      description: "test",
      workersUrlPattern: local.workersUrlPattern,
      tokenSource: "local",
    },
    cwd: root,
    stateDir: join(dir, "wrangler"),
    baseEnv: { PATH: process.env.PATH, HOME: dir },
  });
}, 120_000);

afterAll(async () => {
  await cloud?.dispose();
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the seed's orchestration classes", () => {
  it("construct exactly as the seed README writes them", () => {
    const orchestrator = new MultiDomainOrchestrator({
      domains: ["api", "auth", "data"],
      environment: "production",
      parallelDeployments: 3,
    });
    const coordinator = new CrossDomainCoordinator({
      portfolioName: "enterprise-suite",
      maxConcurrentDeployments: 5,
      enableDependencyResolution: true,
    });
    expect(orchestrator).toMatchObject({ environment: "production", parallelDeployments: 3 });
    expect(coordinator).toMatchObject({ portfolioName: "enterprise-suite", maxConcurrentDeployments: 5 });
  });

  it("MultiDomainOrchestrator plans, validates, deploys in dependency order and reports what serves", async () => {
    const orchestrator = new MultiDomainOrchestrator({
      domains: ["l0-svc-01", "l0-svc-02", "l1-svc-03"],
      environment: "staging",
      parallelDeployments: 2,
      root,
      cloud,
    });
    expect(await orchestrator.plan()).toEqual([["l0-svc-01", "l0-svc-02"], ["l1-svc-03"]]);
    expect((await orchestrator.validate()).ok).toBe(true);
    const report = await orchestrator.deploy();
    expect(report.ok).toBe(true);
    expect(report.waves).toEqual([["l0-svc-01", "l0-svc-02"], ["l1-svc-03"]]);
    const status = await orchestrator.status();
    for (const s of report.services) {
      const live = status.find((x) => x.service === s.service);
      expect(live?.versions).toEqual([{ versionId: s.versionAfter, percentage: 100 }]);
      // `*.localhost` through lego's own client (it resolves it to 127.0.0.1, as browsers do).
      const res = await defaultHttpClient(`${s.url}health`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).versionId).toBe(s.versionAfter);
    }
  }, 240_000);

  it("CrossDomainCoordinator deploys the whole portfolio; without dependency resolution in one wave", async () => {
    const coordinator = new CrossDomainCoordinator({
      portfolioName: "enterprise-suite",
      maxConcurrentDeployments: 4,
      enableDependencyResolution: false,
      root,
      cloud,
    });
    const report = await coordinator.deployPortfolio({ environment: "staging", deploy: { tests: false } });
    expect(report.ok).toBe(true);
    expect(report.waves).toHaveLength(1);
    expect(report.services.map((s) => s.status)).toEqual(["ok", "ok", "ok", "ok"]);
  }, 240_000);
});
