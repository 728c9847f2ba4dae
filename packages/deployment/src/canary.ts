import { type Clock, InterruptedError, LegoError, OperationError, UsageError } from "@lego/core";
import type { DeployContext } from "./apply.ts";
import { defaultHttpClient, type HttpClient } from "./http.ts";
import type { DeploymentPlan, PlannedService, StepName } from "./plan.ts";
import type { ServiceRunReport } from "./report.ts";
import type { RollbackPoint } from "./rollback.ts";
import { defaultProductionTests, ProductionTester, waitUntilLive } from "./tester.ts";

/** How a service's new version reaches its traffic. */
export type DeployStrategy = { kind: "immediate" } | ({ kind: "canary" } & CanaryOptions);

/**
 * When a canary step is judged bad, comparing the new version's probes with the old version's over
 * the same bake. Defaults: {@link defaultCanaryThresholds}.
 */
export interface CanaryThresholds {
  /** The new version's error rate may exceed the old one's by at most this much (0.02: 2 points). */
  maxErrorRateIncrease: number;
  /** Its p95 latency may be at most the old p95 × this ratio, plus {@link latencySlackMs}. */
  maxLatencyRatio: number;
  /** Absolute slack on the latency bound, so a 3 ms vs 6 ms difference is not a regression. */
  latencySlackMs: number;
  /** Each version is probed at least this often per step before it is judged (the bake runs longer if needed). */
  minRequests: number;
}

/** Defaults: +2 points of errors, p95 × 1.5 + 50 ms, 20 probes per version per step. */
export const defaultCanaryThresholds: CanaryThresholds = {
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  latencySlackMs: 50,
  minRequests: 20,
};

/** The canary strategy's settings (`--steps`, `--bake`). */
export interface CanaryOptions {
  /** Traffic percentages of the new version, rising, ending at 100. `[100]` is blue-green. */
  steps: number[];
  /** How long each step below 100% bakes while both versions are probed. */
  bakeMs: number;
  thresholds: CanaryThresholds;
  /** Pause between two probe rounds. Default 25 ms. */
  probeIntervalMs?: number | undefined;
}

/** Defaults for `--strategy canary`: 10%, 50%, 100%, 60 s bakes. */
export const defaultCanaryOptions: CanaryOptions = {
  steps: [10, 50, 100],
  bakeMs: 60_000,
  thresholds: defaultCanaryThresholds,
};

/** What probing one version saw during a bake. */
export interface ProbeStats {
  versionId: string;
  requests: number;
  /** 5xx answers, timeouts and connection failures. */
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
}

/** A traffic split as the API reports it. */
export type TrafficShare = Array<{ versionId: string; percentage: number }>;

/** One step of a canary in the report: the shares read back, the metrics seen, and the decision. */
export interface CanaryPhase {
  /** `pre-traffic`: the new version at 0%, tested through the override header; `traffic`: a share. */
  kind: "pre-traffic" | "traffic";
  /** The new version's share asked for in this step (0 before traffic). */
  percent: number;
  startedAt: string;
  durationMs: number;
  /** The deployment read back from the API after the move. */
  traffic: TrafficShare;
  /** Probes of both versions during the bake (absent at 0% and 100%). */
  metrics?: { old: ProbeStats; new: ProbeStats };
  /** `advance` to the next step, `promoted` at 100%, `rollback`: 100% back on the old version. */
  decision: "advance" | "promoted" | "rollback";
  reason: string;
}

/** The canary part of a service's run report. */
export interface CanaryReport {
  /** `blue-green` when the only step is 100%. */
  strategy: "canary" | "blue-green";
  steps: number[];
  bakeMs: number;
  thresholds: CanaryThresholds;
  oldVersion: string;
  newVersion?: string;
  phases: CanaryPhase[];
  /** `promoted`: the new version serves 100%; `rolled-back`: the old one serves 100% again. */
  outcome?: "promoted" | "rolled-back";
  /** Why it was rolled back, in one line. */
  reason?: string;
  /** The deployment read back from the API once the canary ended. */
  finalTraffic?: TrafficShare;
}

/** Nearest-rank percentile of `values` (ms); 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Summarizes probe samples of one version. */
export function probeStats(
  versionId: string,
  samples: ReadonlyArray<{ ok: boolean; durationMs: number }>,
): ProbeStats {
  const errors = samples.filter((s) => !s.ok).length;
  const durations = samples.map((s) => s.durationMs);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    versionId,
    requests: samples.length,
    errors,
    errorRate: samples.length === 0 ? 0 : errors / samples.length,
    p50Ms: round(percentile(durations, 50)),
    p95Ms: round(percentile(durations, 95)),
  };
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/**
 * Judges one bake (pure): `rollback` when the new version's error rate exceeds the old one's by more
 * than `maxErrorRateIncrease`, or its p95 exceeds the old p95 × `maxLatencyRatio` + `latencySlackMs`,
 * or either version was probed fewer than `minRequests` times; else `advance`. `reasons` says why,
 * with the figures.
 *
 * @example
 * decideCanaryStep(oldStats, newStats, defaultCanaryThresholds)
 * // { decision: "rollback", reasons: ["error rate 20.0% on the new version vs 0.0% on the old (max +2.0 points)"] }
 */
export function decideCanaryStep(
  old: ProbeStats,
  next: ProbeStats,
  t: CanaryThresholds,
): { decision: "advance" | "rollback"; reasons: string[] } {
  const reasons: string[] = [];
  for (const [label, s] of [
    ["new", next],
    ["old", old],
  ] as const) {
    if (s.requests < t.minRequests)
      reasons.push(
        `only ${s.requests} probes of the ${label} version answered in time (need ${t.minRequests})`,
      );
  }
  if (next.errorRate - old.errorRate > t.maxErrorRateIncrease + 1e-9)
    reasons.push(
      `error rate ${pct(next.errorRate)} on the new version vs ${pct(old.errorRate)} on the old (max +${(t.maxErrorRateIncrease * 100).toFixed(1)} points)`,
    );
  const latencyBound = old.p95Ms * t.maxLatencyRatio + t.latencySlackMs;
  if (next.p95Ms > latencyBound)
    reasons.push(
      `p95 latency ${next.p95Ms} ms on the new version vs ${old.p95Ms} ms on the old (max ${Math.round(latencyBound)} ms: × ${t.maxLatencyRatio} + ${t.latencySlackMs} ms)`,
    );
  return { decision: reasons.length > 0 ? "rollback" : "advance", reasons };
}

/**
 * Checks `--steps` (rising percentages in 1..100, ending at 100) and returns them; throws a UsageError
 * (exit 2) naming the flag otherwise.
 */
export function parseCanarySteps(text: string, flag = "--steps"): number[] {
  const parts = text.split(",").map((s) => s.trim().replace(/%$/, ""));
  const steps = parts.map(Number);
  const bad = (why: string) =>
    new UsageError({
      code: "ERR_BAD_FLAG",
      message: `${flag} ${text}: ${why}`,
      hint: `Give rising traffic percentages of the new version ending at 100, e.g. ${flag} 10,50,100 (or ${flag} 100 for blue-green).`,
      details: { flag, value: text },
    });
  if (parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) throw bad("each step must be a number");
  if (steps.some((s) => s <= 0 || s > 100)) throw bad("each step must be above 0 and at most 100");
  for (let i = 1; i < steps.length; i++)
    if ((steps[i] as number) <= (steps[i - 1] as number)) throw bad("steps must rise");
  if (steps.at(-1) !== 100) throw bad("the last step must be 100");
  return steps;
}

/** Parses a duration such as `500ms`, `30s`, `2m`, `1h` (a bare number is seconds) to milliseconds. */
export function parseDuration(text: string, flag = "--bake"): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? "s") as keyof typeof unit] : Number.NaN;
  if (!Number.isFinite(ms) || ms > 24 * 3_600_000) {
    throw new UsageError({
      code: "ERR_BAD_FLAG",
      message: `${flag} ${text} is not a duration`,
      hint: `Give a number with a unit: ${flag} 30s, ${flag} 2m, ${flag} 500ms (at most 24h).`,
      details: { flag, value: text },
    });
  }
  return Math.round(ms);
}

/** The header that routes one request to one version of the current deployment. */
export function versionOverrideHeader(scriptName: string, versionId: string): Record<string, string> {
  return { "cloudflare-workers-version-overrides": `${scriptName}="${versionId}"` };
}

/** An HTTP client that sends every request to one version (the override header added). */
function pinnedHttp(http: HttpClient, scriptName: string, versionId: string): HttpClient {
  const pin = versionOverrideHeader(scriptName, versionId);
  return (url, options = {}) => http(url, { ...options, headers: { ...options.headers, ...pin } });
}

/** What {@link deployCanary} acts through: the service's pipeline hands over its recorder and report. */
export interface CanaryRun {
  plan: DeploymentPlan;
  service: PlannedService;
  ctx: DeployContext;
  options: CanaryOptions;
  clock: Clock;
  /** The live deployment before the run (the old version is its largest share). */
  point: RollbackPoint;
  /** The service's report: `versionAfter`, `url`, `tests`, `canary`, `rolledBack`, `liveVersion` are filled in. */
  out: ServiceRunReport;
  step<T>(name: StepName, fn: () => Promise<{ value: T; message?: string }>): Promise<T>;
  audit(action: string, extra?: Record<string, unknown>): Promise<unknown>;
  /** The URL the service answers on (from its primary hostname). */
  url: string;
}

/**
 * The canary strategy for one service, after its migrations:
 * 1. `upload`: `wrangler versions upload`: the new version, serving nothing;
 * 2. `stage`: `wrangler versions deploy old@100% new@0%`, so the `Cloudflare-Workers-Version-Overrides`
 *    header can reach it (an override only applies to versions of the current deployment);
 * 3. `wait-live` and `tests`: the production tests against the new version only, through the override.
 *    A failure puts the deployment back on the old version alone: no request was served by the new one;
 * 4. per step (`traffic N%`): `wrangler versions deploy new@N% old@(100-N)%`, the split read back from the
 *    API; then (below 100%) `bake N%`: both versions probed through the override for the bake, the new
 *    one's error rate and p95 compared with the old one's ({@link decideCanaryStep}); `advance`, or
 *    `rollback`: 100% back on the old version, and the run fails saying why.
 *
 * Each phase (shares read back, metrics, decision) goes into `out.canary`, the journal
 * (`canary.step`) and the audit log (`canary.step`). Throws (after restoring the old version) to fail the
 * service; `out.rolledBack` says whether traffic had moved.
 */
export async function deployCanary(run: CanaryRun): Promise<void> {
  const { service, ctx, options, clock, out, step, url } = run;
  const http = ctx.http ?? defaultHttpClient;
  const signal = ctx.signal;
  const old = [...run.point.versions].sort((a, b) => b.percentage - a.percentage)[0]?.versionId as string;
  const steps = options.steps;
  const report: CanaryReport = {
    strategy: steps.length === 1 ? "blue-green" : "canary",
    steps,
    bakeMs: options.bakeMs,
    thresholds: options.thresholds,
    oldVersion: old,
    phases: [],
  };
  out.canary = report;
  const scope = {
    cwd: service.path,
    ...(signal ? { signal } : {}),
  };
  const envArg = `--env=${service.wranglerEnv}`;
  const message = (what: string) => `lego run ${ctx.journal.runId}: ${what}`;

  /** The live deployment, read back from the API. */
  const readTraffic = async (): Promise<TrafficShare> => {
    const deployments = await ctx.client.listDeployments(service.scriptName, signal ? { signal } : undefined);
    return (deployments[0]?.versions ?? []).map((v) => ({
      versionId: v.version_id,
      percentage: v.percentage,
    }));
  };
  const describeTraffic = (t: TrafficShare) =>
    t
      .map(
        (v) =>
          `${v.versionId === old ? "old" : v.versionId === out.versionAfter ? "new" : v.versionId} ${v.percentage}%`,
      )
      .join(", ");
  /** `wrangler versions deploy`, then the split as the API records it (checked against what was asked). */
  const moveTraffic = async (split: TrafficShare, what: string): Promise<TrafficShare> => {
    await ctx.wrangler.run(
      [
        "versions",
        "deploy",
        ...split.map((v) => `${v.versionId}@${v.percentage}%`),
        "--yes",
        "--message",
        message(what),
        envArg,
      ],
      scope,
    );
    const traffic = await readTraffic();
    const share = (t: TrafficShare, id: string) => t.find((v) => v.versionId === id)?.percentage ?? 0;
    if (split.some((v) => Math.abs(share(traffic, v.versionId) - v.percentage) > 1e-6)) {
      throw new OperationError({
        code: "ERR_CANARY_TRAFFIC",
        message: `${service.scriptName}: asked for ${split.map((v) => `${v.versionId}@${v.percentage}%`).join(" ")}, but the API reports ${traffic.map((v) => `${v.versionId}@${v.percentage}%`).join(" ") || "no deployment"}`,
        hint: "Read the deployments with `wrangler deployments list`; run `lego rollback` if the split is wrong.",
      });
    }
    return traffic;
  };
  const record = async (phase: CanaryPhase) => {
    report.phases.push(phase);
    await ctx.journal.append("canary.step", { service: service.service, ...phase });
    await run.audit("canary.step", {
      result: phase.decision === "rollback" ? "failed" : "ok",
      versionBefore: old,
      versionAfter: out.versionAfter ?? null,
      durationMs: phase.durationMs,
      details: {
        kind: phase.kind,
        percent: phase.percent,
        traffic: phase.traffic,
        ...(phase.metrics ? { metrics: phase.metrics } : {}),
        decision: phase.decision,
        reason: phase.reason,
      },
    });
  };
  /** Puts 100% back on the old version (the new one leaves the deployment), read back. */
  const restoreOld = async (why: string, rolledBack: boolean): Promise<void> => {
    const traffic = await step("rollback", async () => {
      const t = await moveTraffic([{ versionId: old, percentage: 100 }], `back to ${old} (${why})`);
      return { value: t, message: `100% back on ${old}: ${why}` };
    });
    report.finalTraffic = traffic;
    report.outcome = "rolled-back";
    report.reason = why;
    out.rolledBack = rolledBack;
  };

  // 1. Upload without traffic.
  const newVersion = await step("upload", async () => {
    const r = await ctx.wrangler.versionsUpload({
      ...scope,
      env: service.wranglerEnv,
      message: message("canary"),
    });
    return { value: r.versionId, message: `version ${r.versionId}, serving nothing yet` };
  });
  out.versionAfter = newVersion;
  report.newVersion = newVersion;

  // 2. In the deployment at 0%, so the override reaches it; 3. tested through the override.
  let started = clock.now();
  const staged = await step("stage", async () => {
    const t = await moveTraffic(
      [
        { versionId: old, percentage: 100 },
        { versionId: newVersion, percentage: 0 },
      ],
      `stage ${newVersion} at 0%`,
    );
    return { value: t, message: `${describeTraffic(t)} (read back)` };
  });
  const pinned = pinnedHttp(http, service.scriptName, newVersion);
  try {
    await step("wait-live", async () => {
      const live = await waitUntilLive({
        baseUrl: url,
        health: service.tests.health,
        expectVersion: newVersion,
        timeoutMs: run.plan.options.liveTimeoutMs,
        http: pinned,
        clock,
        ...(signal ? { signal } : {}),
      });
      return {
        value: live,
        message: `the new version answered through the override after ${live.attempts} attempt${live.attempts === 1 ? "" : "s"}`,
      };
    });
    if (service.steps.includes("tests")) {
      const tester = new ProductionTester({
        http: pinned,
        clock,
        ...(signal ? { signal } : {}),
        secret: (name) => ctx.secret?.(service.service, name) ?? Promise.resolve(undefined),
      });
      out.tests = await step("tests", async () => {
        const tests = await tester.runProductionTests(url, service.tests);
        out.tests = tests;
        if (!tests.ok) {
          const bad = tests.checks.filter((c) => !c.ok);
          throw new OperationError({
            code: "ERR_CANARY_TESTS_FAILED",
            message: `${bad.length} of ${tests.checks.length} pre-traffic checks failed on the new version: ${bad.map((c) => c.message).join("; ")}`,
          });
        }
        return {
          value: tests,
          message: `${tests.checks.length} checks passed on the new version, before any traffic`,
        };
      });
    }
  } catch (error) {
    if (error instanceof InterruptedError || (error as LegoError)?.exitCode === 130) throw error;
    const why = `the new version failed its pre-traffic tests: ${(error as Error).message.split("\n")[0]}`;
    await record({
      kind: "pre-traffic",
      percent: 0,
      startedAt: new Date(started).toISOString(),
      durationMs: clock.now() - started,
      traffic: staged,
      decision: "rollback",
      reason: why,
    });
    await restoreOld(why, false);
    throw new LegoError({
      code: "ERR_CANARY_TESTS_FAILED",
      message: `${why}. No traffic moved: ${old} kept 100%`,
      hint: "Fix the new version and deploy again; nothing served it.",
      exitCode: 1,
      kind: "user",
    });
  }
  await record({
    kind: "pre-traffic",
    percent: 0,
    startedAt: new Date(started).toISOString(),
    durationMs: clock.now() - started,
    traffic: staged,
    decision: "advance",
    reason: out.tests
      ? `${out.tests.checks.length} checks passed on the new version at 0%`
      : "it answers at 0%",
  });

  // 4. Move traffic step by step, baking below 100%.
  const paths = [...new Set([service.tests.health?.path ?? defaultProductionTests.health.path, "/"])];
  for (const percent of steps) {
    started = clock.now();
    const split: TrafficShare =
      percent >= 100
        ? [{ versionId: newVersion, percentage: 100 }]
        : [
            { versionId: newVersion, percentage: percent },
            { versionId: old, percentage: 100 - percent },
          ];
    let traffic: TrafficShare;
    try {
      traffic = await step(`traffic ${percent}%`, async () => {
        const t = await moveTraffic(split, `${newVersion} at ${percent}%`);
        return { value: t, message: `${describeTraffic(t)} (read back)` };
      });
    } catch (error) {
      if (error instanceof InterruptedError || (error as LegoError)?.exitCode === 130) throw error;
      const why = `moving traffic to ${percent}% failed: ${(error as Error).message.split("\n")[0]}`;
      await restoreOld(why, true);
      throw error;
    }
    if (percent >= 100) {
      await record({
        kind: "traffic",
        percent,
        startedAt: new Date(started).toISOString(),
        durationMs: clock.now() - started,
        traffic,
        decision: "promoted",
        reason: `the new version serves ${describeTraffic(traffic)}`,
      });
      report.outcome = "promoted";
      report.finalTraffic = traffic;
      break;
    }
    const metrics = await step(`bake ${percent}%`, async () => {
      const m = await bake({
        http,
        url,
        paths,
        scriptName: service.scriptName,
        old,
        next: newVersion,
        options,
        clock,
        ...(signal ? { signal } : {}),
      });
      return {
        value: m,
        message: `new: ${pct(m.new.errorRate)} errors, p95 ${m.new.p95Ms} ms (${m.new.requests}); old: ${pct(m.old.errorRate)}, p95 ${m.old.p95Ms} ms (${m.old.requests})`,
      };
    });
    const { decision, reasons } = decideCanaryStep(metrics.old, metrics.new, options.thresholds);
    const reason =
      decision === "advance"
        ? `within thresholds: ${pct(metrics.new.errorRate)} errors (old ${pct(metrics.old.errorRate)}), p95 ${metrics.new.p95Ms} ms (old ${metrics.old.p95Ms} ms)`
        : reasons.join("; ");
    await record({
      kind: "traffic",
      percent,
      startedAt: new Date(started).toISOString(),
      durationMs: clock.now() - started,
      traffic,
      metrics,
      decision,
      reason,
    });
    if (decision === "rollback") {
      const why = `at ${percent}%: ${reason}`;
      await restoreOld(why, true);
      throw new LegoError({
        code: "ERR_CANARY_ROLLED_BACK",
        message: `canary rolled back ${why}; ${old} serves 100% again`,
        hint: "The new version served a share of real traffic and did worse than the old one; see the canary timeline in the run report.",
        exitCode: 1,
        kind: "user",
      });
    }
  }
  out.liveVersion = report.finalTraffic?.find((v) => v.percentage === 100)?.versionId ?? null;
}

/** Probes both versions through the override header for the bake (and until each has `minRequests`). */
async function bake(o: {
  http: HttpClient;
  url: string;
  paths: string[];
  scriptName: string;
  old: string;
  next: string;
  options: CanaryOptions;
  clock: Clock;
  signal?: AbortSignal;
}): Promise<{ old: ProbeStats; new: ProbeStats }> {
  type Sample = { ok: boolean; durationMs: number };
  const samples = { old: [] as Sample[], new: [] as Sample[] };
  const clients = {
    old: pinnedHttp(o.http, o.scriptName, o.old),
    new: pinnedHttp(o.http, o.scriptName, o.next),
  };
  const started = o.clock.now();
  // Past the bake, probing goes on only until each version has its minimum, for at most 30 s more.
  const hardStop = started + o.options.bakeMs + 30_000;
  const enough = () =>
    samples.old.length >= o.options.thresholds.minRequests &&
    samples.new.length >= o.options.thresholds.minRequests;
  let i = 0;
  const probe = async (which: "old" | "new", path: string) => {
    const t0 = performance.now();
    try {
      const res = await clients[which](new URL(path, o.url).href, {
        timeoutMs: 10_000,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      samples[which].push({ ok: res.status < 500, durationMs: res.durationMs });
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      samples[which].push({ ok: false, durationMs: performance.now() - t0 });
    }
  };
  while (o.clock.now() - started < o.options.bakeMs || (!enough() && o.clock.now() < hardStop)) {
    const path = o.paths[i++ % o.paths.length] as string;
    await Promise.all([probe("old", path), probe("new", path)]);
    await o.clock.sleep(o.options.probeIntervalMs ?? 25, o.signal);
  }
  return { old: probeStats(o.old, samples.old), new: probeStats(o.next, samples.new) };
}
