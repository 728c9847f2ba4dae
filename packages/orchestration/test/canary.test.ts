// Portfolio runs with the canary strategy: a dependent starts only once what it depends on serves its
// new version at 100% (read back from the API), on a local cloud with the real wrangler.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cloud } from "@lego/cloudflare";
import { defaultCanaryThresholds, defaultDeployOptions } from "@lego/deployment";
import { scanPortfolio } from "@lego/discovery";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployServices } from "../src/index.ts";
import { type PortfolioCloud, portfolioOnLocalCloud } from "./portfolio-cloud.ts";

let fixture: PortfolioCloud;
let root: string;
let cloud: Cloud;

beforeAll(async () => {
  // l1-svc-02 binds l0-svc-01: two waves.
  fixture = await portfolioOnLocalCloud("lego-orch-canary-", { services: 2, levels: 2 });
  ({ root, cloud } = fixture);
}, 120_000);

afterAll(() => fixture?.dispose());

describe("deployServices with --strategy canary", () => {
  it("starts a dependent only once what it depends on has reached 100%", async () => {
    const portfolio = await scanPortfolio({ root });
    const base = { ...defaultDeployOptions, environment: "staging", validation: "basic" as const };
    const first = await deployServices({ portfolio, deploy: base, command: "first" }, { cloud });
    expect(first.ok, JSON.stringify(first.services.map((s) => s.error))).toBe(true);

    const report = await deployServices(
      {
        portfolio,
        deploy: {
          ...base,
          strategy: {
            kind: "canary",
            steps: [50, 100],
            bakeMs: 300,
            thresholds: { ...defaultCanaryThresholds, minRequests: 5 },
          },
        },
        concurrency: 4,
        command: "canary",
      },
      { cloud },
    );
    expect(report.ok, JSON.stringify(report.services.map((s) => s.error))).toBe(true);
    const [dep, dependent] = ["l0-svc-01", "l1-svc-02"].map(
      (n) => report.services.find((s) => s.service === n) as (typeof report.services)[number],
    );
    for (const s of [dep, dependent]) {
      expect(s?.canary?.outcome).toBe("promoted");
      expect(s?.canary?.finalTraffic).toEqual([{ versionId: s?.versionAfter, percentage: 100 }]);
      // The cloud is the record: the API serves the new version at 100%.
      const [live] = await cloud.client.listDeployments(s?.scriptName as string);
      expect(live?.versions).toEqual([{ version_id: s?.versionAfter, percentage: 100 }]);
    }
    const journal = (await readFile(join(root, ".lego", "runs", report.runId, "journal.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; service?: string; step?: string; at: string });
    const promoted = journal.findIndex(
      (e) => e.type === "step.finished" && e.service === "l0-svc-01" && e.step === "traffic 100%",
    );
    const dependentStarts = journal.findIndex((e) => e.type === "step.started" && e.service === "l1-svc-02");
    expect(promoted).toBeGreaterThan(0);
    expect(dependentStarts).toBeGreaterThan(promoted);
    // Each step is in the journal with the shares read back.
    const steps = journal.filter((e) => e.type === "canary.step" && e.service === "l0-svc-01");
    expect(steps.map((e) => (e as unknown as { percent: number }).percent)).toEqual([0, 50, 100]);
  }, 240_000);
});
