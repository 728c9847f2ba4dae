import { describe, expect, it } from "vitest";
import {
  type CanaryReport,
  decideCanaryStep,
  defaultCanaryThresholds,
  parseCanarySteps,
  parseDuration,
  percentile,
  probeStats,
  type RunReport,
  renderReportHtml,
  renderReportMarkdown,
  versionOverrideHeader,
} from "../src/index.ts";

const samples = (n: number, errors: number, ms: number) =>
  Array.from({ length: n }, (_, i) => ({ ok: i >= errors, durationMs: ms + (i % 10) }));

describe("canary metrics and decision", () => {
  it("computes nearest-rank percentiles and error rates", () => {
    expect(percentile([], 95)).toBe(0);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
    const s = probeStats("v", samples(50, 10, 20));
    expect(s).toMatchObject({ versionId: "v", requests: 50, errors: 10, errorRate: 0.2 });
    expect(s.p95Ms).toBe(29);
  });

  it("advances when the new version does as well as the old one", () => {
    const old = probeStats("old", samples(40, 0, 10));
    const next = probeStats("new", samples(40, 0, 12));
    expect(decideCanaryStep(old, next, defaultCanaryThresholds)).toEqual({
      decision: "advance",
      reasons: [],
    });
  });

  it("rolls back on an error rate above the old one's by more than the threshold, and says so", () => {
    const old = probeStats("old", samples(50, 0, 10));
    const next = probeStats("new", samples(50, 10, 10));
    const d = decideCanaryStep(old, next, defaultCanaryThresholds);
    expect(d.decision).toBe("rollback");
    expect(d.reasons).toEqual(["error rate 20.0% on the new version vs 0.0% on the old (max +2.0 points)"]);
    // The same errors on both versions are not the new version's fault.
    expect(
      decideCanaryStep(probeStats("old", samples(50, 10, 10)), next, defaultCanaryThresholds).decision,
    ).toBe("advance");
    // Exactly at the threshold still advances.
    const t = { ...defaultCanaryThresholds, maxErrorRateIncrease: 0.2 };
    expect(decideCanaryStep(old, next, t).decision).toBe("advance");
  });

  it("rolls back on a p95 above old × ratio + slack", () => {
    const old = probeStats("old", samples(40, 0, 100));
    const slow = probeStats("new", samples(40, 0, 300));
    const d = decideCanaryStep(old, slow, defaultCanaryThresholds);
    expect(d.decision).toBe("rollback");
    expect(d.reasons[0]).toMatch(/^p95 latency 309 ms on the new version vs 109 ms on the old \(max 214 ms/);
    // Small absolute differences stay within the slack.
    const fast = probeStats("old", samples(40, 0, 2));
    expect(
      decideCanaryStep(fast, probeStats("new", samples(40, 0, 30)), defaultCanaryThresholds).decision,
    ).toBe("advance");
  });

  it("does not judge on too few probes", () => {
    const d = decideCanaryStep(
      probeStats("old", samples(5, 0, 10)),
      probeStats("new", samples(40, 0, 10)),
      defaultCanaryThresholds,
    );
    expect(d.decision).toBe("rollback");
    expect(d.reasons[0]).toContain("only 5 probes of the old version");
  });
});

describe("canary flags", () => {
  it("parses --steps", () => {
    expect(parseCanarySteps("10,50,100")).toEqual([10, 50, 100]);
    expect(parseCanarySteps("100")).toEqual([100]);
    expect(parseCanarySteps("5%, 25%,100%")).toEqual([5, 25, 100]);
    for (const bad of ["", "10,abc,100", "50,10,100", "10,50", "0,100", "10,150", "10,10,100"]) {
      expect(() => parseCanarySteps(bad), bad).toThrow(/--steps/);
      try {
        parseCanarySteps(bad);
      } catch (error) {
        expect((error as { exitCode: number }).exitCode).toBe(2);
        expect((error as { hint: string }).hint).toContain("10,50,100");
      }
    }
  });

  it("parses --bake durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("0s")).toBe(0);
    for (const bad of ["", "abc", "10 minutes", "-1s", "2d", "25h"])
      expect(() => parseDuration(bad), bad).toThrow(/--bake/);
  });

  it("builds the override header as a structured dictionary member", () => {
    expect(versionOverrideHeader("api-staging", "abc")).toEqual({
      "cloudflare-workers-version-overrides": 'api-staging="abc"',
    });
  });
});

describe("canary in the run report", () => {
  const canary: CanaryReport = {
    strategy: "canary",
    steps: [10, 100],
    bakeMs: 1000,
    thresholds: defaultCanaryThresholds,
    oldVersion: "00000000-0000-4000-8000-000000000001",
    newVersion: "00000000-0000-4000-8000-000000000002",
    outcome: "rolled-back",
    reason: "at 10%: error rate 20.0% on the new version vs 0.0% on the old (max +2.0 points)",
    phases: [
      {
        kind: "pre-traffic",
        percent: 0,
        startedAt: "2026-01-01T00:00:01.000Z",
        durationMs: 300,
        traffic: [
          { versionId: "00000000-0000-4000-8000-000000000001", percentage: 100 },
          { versionId: "00000000-0000-4000-8000-000000000002", percentage: 0 },
        ],
        decision: "advance",
        reason: "2 checks passed on the new version at 0%",
      },
      {
        kind: "traffic",
        percent: 10,
        startedAt: "2026-01-01T00:00:02.000Z",
        durationMs: 1200,
        traffic: [
          { versionId: "00000000-0000-4000-8000-000000000002", percentage: 10 },
          { versionId: "00000000-0000-4000-8000-000000000001", percentage: 90 },
        ],
        metrics: {
          new: { versionId: "n", requests: 40, errors: 8, errorRate: 0.2, p50Ms: 3, p95Ms: 6 },
          old: { versionId: "o", requests: 40, errors: 0, errorRate: 0, p50Ms: 3, p95Ms: 5 },
        },
        decision: "rollback",
        reason: "error rate 20.0% on the new version vs 0.0% on the old (max +2.0 points)",
      },
    ],
  };
  const report: RunReport = {
    runId: "r1",
    command: "lego deploy hello --strategy canary",
    target: { kind: "local" },
    who: "t",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:05.000Z",
    durationMs: 5000,
    ok: false,
    services: [
      {
        service: "hello",
        environment: "staging",
        scriptName: "hello-staging",
        ok: false,
        status: "rolled-back",
        rolledBack: true,
        steps: [],
        canary,
      },
    ],
  };

  it("renders each step with its shares, metrics and decision (HTML timeline and Markdown)", () => {
    const html = renderReportHtml(report);
    expect(html).toContain('data-canary-step="pre-traffic" data-decision="advance"');
    expect(html).toContain('data-canary-step="10" data-decision="rollback"');
    expect(html).toContain("new 10%, old 90%");
    expect(html).toContain("20.0% · p95 6 ms");
    expect(html).toContain("error rate 20.0% on the new version");
    const md = renderReportMarkdown(report);
    expect(md).toContain("| 10% | new 10%, old 90% | 20.0%, 6 ms (40) | 0.0%, 5 ms (40) | rollback |");
    expect(md).toContain("| pre-traffic tests | old 100%, new 0% |");
  });
});
