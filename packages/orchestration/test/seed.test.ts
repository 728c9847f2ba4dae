import type { Cloud } from "@lego/cloudflare";
import { defaultHttpClient } from "@lego/deployment";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CrossDomainCoordinator, MultiDomainOrchestrator } from "../src/index.ts";
import { type PortfolioCloud, portfolioOnLocalCloud } from "./portfolio-cloud.ts";

let fixture: PortfolioCloud;
let root: string;
let cloud: Cloud;

beforeAll(async () => {
  // 4 services in 2 levels: l1-svc-03 binds l0-svc-01 and l0-svc-02, l1-svc-04 binds l0-svc-01 and l0-svc-02's peer.
  fixture = await portfolioOnLocalCloud("lego-seed-orch-", { services: 4, levels: 2 });
  ({ root, cloud } = fixture);
}, 120_000);

afterAll(() => fixture?.dispose());

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
